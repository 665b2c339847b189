using Azure.Data.Tables;
using Gateway.Core.Storage;

namespace Gateway.Core.Usage;

/// <summary>One counted cell: calls of one key, to one route group, in one UTC hour, with one outcome.</summary>
public readonly record struct UsageCell(string CustomerId, string KeyId, string RouteGroup, int Hour, CallOutcome Outcome);

/// <summary>A cell's count as written by one writer (one gateway process).</summary>
public readonly record struct UsageCount(UsageCell Cell, string Writer, long Count);

/// <summary>
/// The usage table. Partition: <c>{customerId}|{yyyyMM}</c>, so one customer's month is one partition and a flush
/// writes it in single-partition batches. Rows:
/// <list type="bullet">
/// <item><c>h|{yyyyMMddHH}|{keyId}|{routeGroup}|{outcome}|{writer}</c>: calls in that hour.</item>
/// <item><c>m|{keyId}|{writer}</c>: forwarded calls of the key in the month, read for quota checks.</item>
/// </list>
/// Every row holds the writer's cumulative count, written with upsert-replace: writing the same value twice is
/// harmless, so a retried flush can never double count. The true count of a cell is the sum over its writers.
/// </summary>
public sealed class UsageTable(GatewayTables tables)
{
    /// <summary>Table Storage's limit on operations in one transaction.</summary>
    public const int MaxBatchSize = 100;

    public static string PartitionKey(string customerId, int month) => $"{customerId}|{UsageCalendar.MonthText(month)}";

    public static TableEntity HourRow(UsageCount count)
    {
        var cell = count.Cell;
        return new TableEntity(
            PartitionKey(cell.CustomerId, UsageCalendar.MonthOfHour(cell.Hour)),
            $"h|{UsageCalendar.HourText(cell.Hour)}|{cell.KeyId}|{cell.RouteGroup}|{cell.Outcome.Name()}|{count.Writer}")
        {
            ["KeyId"] = cell.KeyId,
            ["RouteGroup"] = cell.RouteGroup,
            ["Outcome"] = cell.Outcome.Name(),
            ["Hour"] = UsageCalendar.HourStart(cell.Hour),
            ["Writer"] = count.Writer,
            ["Count"] = count.Count,
        };
    }

    public static TableEntity MonthRow(string customerId, string keyId, int month, string writer, long count) =>
        new(PartitionKey(customerId, month), $"m|{keyId}|{writer}")
        {
            ["KeyId"] = keyId,
            ["Writer"] = writer,
            ["Count"] = count,
        };

    /// <summary>Writes rows of one partition (at most <see cref="MaxBatchSize"/>) in one atomic transaction.</summary>
    public async Task WriteBatchAsync(IReadOnlyList<TableEntity> rows, CancellationToken cancellationToken)
    {
        if (rows.Count is 0 or > MaxBatchSize)
        {
            // Stryker disable once String : the message is for the developer who broke the contract; the exception type is the behaviour
            throw new ArgumentOutOfRangeException(nameof(rows), rows.Count, $"A batch holds 1 to {MaxBatchSize} rows.");
        }

        await tables.Usage.SubmitTransactionAsync(rows.Select(r => new TableTransactionAction(TableTransactionActionType.UpsertReplace, r)), cancellationToken);
    }

    /// <summary>Hourly counts of a customer for hours in [fromHour, toHour), from every writer.</summary>
    public async IAsyncEnumerable<UsageCount> ReadHoursAsync(
        string customerId,
        int fromHour,
        int toHour,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        // Stryker disable once Arithmetic : equivalent, "toHour + 1" can only add the month after the range, whose row-key range [low, high) is then empty
        for (var month = UsageCalendar.MonthOfHour(fromHour); month <= UsageCalendar.MonthOfHour(toHour - 1); month++)
        {
            var partition = PartitionKey(customerId, month);
            var low = $"h|{UsageCalendar.HourText(Math.Max(fromHour, UsageCalendar.HourOf(UsageCalendar.MonthStart(month))))}";
            var high = $"h|{UsageCalendar.HourText(Math.Min(toHour, UsageCalendar.HourOf(UsageCalendar.MonthEnd(month))))}";
            var filter = TableClient.CreateQueryFilter($"PartitionKey eq {partition} and RowKey ge {low} and RowKey lt {high}");
            await foreach (var row in tables.Usage.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
            {
                if (!CallOutcomes.TryParse(row.GetString("Outcome"), out var outcome))
                {
                    continue;
                }

                var hour = UsageCalendar.HourOf(row.GetDateTimeOffset("Hour") ?? default);
                yield return new UsageCount(
                    new UsageCell(customerId, row.GetString("KeyId"), row.GetString("RouteGroup"), hour, outcome),
                    row.GetString("Writer"),
                    row.GetInt64("Count") ?? 0);
            }
        }
    }

    /// <summary>Forwarded calls of a key in a month, summed over every writer but <paramref name="exceptWriter"/>.</summary>
    public async Task<long> ReadMonthTotalAsync(string customerId, string keyId, int month, string? exceptWriter, CancellationToken cancellationToken)
    {
        var partition = PartitionKey(customerId, month);
        var low = $"m|{keyId}|";
        var high = $"m|{keyId}}}";
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {partition} and RowKey ge {low} and RowKey lt {high}");
        long total = 0;
        await foreach (var row in tables.Usage.QueryAsync<TableEntity>(filter, select: ["Writer", "Count"], cancellationToken: cancellationToken))
        {
            if (row.GetString("Writer") != exceptWriter)
            {
                total += row.GetInt64("Count") ?? 0;
            }
        }

        return total;
    }

    /// <summary>The month row of one writer for a key: its cumulative count, 0 when it has none.</summary>
    public async Task<long> ReadMonthRowAsync(string customerId, string keyId, int month, string writer, CancellationToken cancellationToken)
    {
        var row = await tables.Usage.GetEntityIfExistsAsync<TableEntity>(PartitionKey(customerId, month), $"m|{keyId}|{writer}", ["Count"], cancellationToken);
        return row.HasValue ? row.Value!.GetInt64("Count") ?? 0 : 0;
    }
}
