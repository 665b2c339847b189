using Gateway.Core.Usage;

namespace Gateway.Billing;

/// <summary>The ledger as billing reads it: a customer's billable calls per UTC hour, every writer's rows summed, never a process's unflushed counts.</summary>
public static class BillableLedger
{
    public static async Task<Dictionary<int, long>> HoursAsync(UsageTable usage, string customerId, int fromHour, int toHour, CancellationToken cancellationToken)
    {
        var hours = new Dictionary<int, long>();
        await foreach (var count in usage.ReadHoursAsync(customerId, fromHour, toHour, cancellationToken))
        {
            if (BillableCalls.IsBilled(count.Cell.Outcome))
            {
                hours[count.Cell.Hour] = hours.GetValueOrDefault(count.Cell.Hour) + count.Count;
            }
        }

        return hours;
    }
}
