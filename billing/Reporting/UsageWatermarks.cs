using Azure;
using Azure.Data.Tables;
using Gateway.Core.Usage;

namespace Gateway.Billing.Reporting;

/// <summary>
/// What was reported to Stripe for one customer and UTC hour. <see cref="Reported"/> billable calls went out in
/// <see cref="Sequence"/> meter events; a <see cref="Pending"/> event is one written down before it was sent, whose
/// outcome is not known yet (it is sent again, with the same identifier and value, until Stripe accepts it or answers
/// that it has it).
/// </summary>
public sealed record HourWatermark(int Hour, long Reported, int Sequence, PendingMeterEvent? Pending, ETag ETag)
{
    public static HourWatermark None(int hour) => new(hour, 0, 0, null, default);

    public bool IsStored => ETag != default;
}

/// <summary>A meter event about to be sent: event number <see cref="Sequence"/> of the hour, bringing the reported count to <see cref="ReportedTo"/>.</summary>
public sealed record PendingMeterEvent(int Sequence, long ReportedTo, DateTimeOffset Since);

/// <summary>
/// The durable watermarks, one row per customer and hour (partition <c>{customerId}|{yyyyMM}</c>, row <c>{yyyyMMddHH}</c>).
/// Ordering rule: every write is conditional on the ETag read (insert-only for a new row), so two runs racing on one
/// hour cannot both move it; the loser gets false and leaves the hour to the next run.
/// </summary>
public sealed class UsageWatermarks(BillingTables tables)
{
    public async Task<IReadOnlyDictionary<int, HourWatermark>> ReadAsync(string customerId, int fromHour, int toHour, CancellationToken cancellationToken)
    {
        var marks = new Dictionary<int, HourWatermark>();
        for (var month = UsageCalendar.MonthOfHour(fromHour); month <= UsageCalendar.MonthOfHour(toHour - 1); month++)
        {
            var partition = UsageTable.PartitionKey(customerId, month);
            var low = UsageCalendar.HourText(fromHour);
            var high = UsageCalendar.HourText(toHour);
            var filter = TableClient.CreateQueryFilter($"PartitionKey eq {partition} and RowKey ge {low} and RowKey lt {high}");
            await foreach (var row in tables.Watermarks.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
            {
                var hour = UsageCalendar.HourOf(row.GetDateTimeOffset("Hour") ?? default);
                var pending = row.GetInt32("PendingSequence") is { } sequence
                    ? new PendingMeterEvent(sequence, row.GetInt64("PendingReportedTo") ?? 0, row.GetDateTimeOffset("PendingSince") ?? default)
                    : null;
                marks[hour] = new HourWatermark(hour, row.GetInt64("Reported") ?? 0, row.GetInt32("Sequence") ?? 0, pending, row.ETag);
            }
        }

        return marks;
    }

    /// <summary>Writes <paramref name="next"/> if the row is still as <paramref name="read"/>; the stored mark, or null when another run changed it first.</summary>
    public async Task<HourWatermark?> TryWriteAsync(string customerId, HourWatermark read, HourWatermark next, CancellationToken cancellationToken)
    {
        var row = new TableEntity(UsageTable.PartitionKey(customerId, UsageCalendar.MonthOfHour(next.Hour)), UsageCalendar.HourText(next.Hour))
        {
            ["Hour"] = UsageCalendar.HourStart(next.Hour),
            ["Reported"] = next.Reported,
            ["Sequence"] = next.Sequence,
            ["PendingSequence"] = next.Pending?.Sequence,
            ["PendingReportedTo"] = next.Pending?.ReportedTo,
            ["PendingSince"] = next.Pending?.Since,
        };
        try
        {
            var response = read.IsStored
                ? await tables.Watermarks.UpdateEntityAsync(row, read.ETag, TableUpdateMode.Replace, cancellationToken)
                : await tables.Watermarks.AddEntityAsync(row, cancellationToken);
            return next with { ETag = response.Headers.ETag ?? default };
        }
        catch (RequestFailedException e) when (StripeCustomerLinks.IsConflict(e))
        {
            return null;
        }
    }
}
