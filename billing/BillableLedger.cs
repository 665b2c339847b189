using Gateway.Core.Keys;
using Gateway.Core.Plans;
using Gateway.Core.Usage;

namespace Gateway.Billing;

/// <summary>
/// The ledger as billing reads it: a customer's billable calls per UTC hour (each key's calls judged by its plan's
/// billable set, <see cref="BillableCalls"/>), every writer's rows summed, never a process's unflushed counts.
/// </summary>
public sealed class BillableLedger(UsageTable usage, IApiKeyStore keys, PlanCatalog plans)
{
    public async Task<Dictionary<int, long>> HoursAsync(string customerId, int fromHour, int toHour, CancellationToken cancellationToken)
    {
        var billable = await BillableCalls.OfCustomerAsync(keys, plans, customerId, cancellationToken);
        var hours = new Dictionary<int, long>();
        await foreach (var count in usage.ReadHoursAsync(customerId, fromHour, toHour, cancellationToken))
        {
            if (billable.IsBilled(count.Cell))
            {
                hours[count.Cell.Hour] = hours.GetValueOrDefault(count.Cell.Hour) + count.Count;
            }
        }

        return hours;
    }
}
