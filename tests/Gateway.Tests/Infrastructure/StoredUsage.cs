using System.Diagnostics;
using Azure.Data.Tables;

namespace Gateway.Tests.Infrastructure;

/// <summary>
/// What really is in the usage table, read straight from Azurite (never through the gateway, nor through a
/// <see cref="StorageFaultProxy"/>), summed over every writer.
/// </summary>
public static class StoredUsage
{
    /// <summary>The sum of a customer's stored hourly rows of forwarded (billable) calls.</summary>
    public static Task<long> HourlyTotalAsync(Azurite azurite, string tablePrefix, string customerId) =>
        SumAsync(azurite, tablePrefix, customerId, row =>
            row.RowKey.StartsWith("h|", StringComparison.Ordinal) && !row.GetString("Outcome").StartsWith("rejected", StringComparison.Ordinal));

    /// <summary>How many hourly rows of a customer storage holds (one per cell and writer once written).</summary>
    public static async Task<int> HourlyRowCountAsync(Azurite azurite, string tablePrefix, string customerId)
    {
        var rows = 0;
        await foreach (var row in RowsAsync(azurite, tablePrefix, customerId))
        {
            rows += row.RowKey.StartsWith("h|", StringComparison.Ordinal) ? 1 : 0;
        }

        return rows;
    }

    /// <summary>The sum of a customer's stored month rows (forwarded calls per key, what quota checks read).</summary>
    public static Task<long> MonthTotalAsync(Azurite azurite, string tablePrefix, string customerId) =>
        SumAsync(azurite, tablePrefix, customerId, row => row.RowKey.StartsWith("m|", StringComparison.Ordinal));

    /// <summary>A customer's stored hourly rows summed by outcome (<c>2xx</c>, <c>rejected-rate-limited</c>, ...).</summary>
    public static async Task<Dictionary<string, long>> HourlyByOutcomeAsync(Azurite azurite, string tablePrefix, string customerId)
    {
        var byOutcome = new Dictionary<string, long>(StringComparer.Ordinal);
        await foreach (var row in RowsAsync(azurite, tablePrefix, customerId))
        {
            if (row.RowKey.StartsWith("h|", StringComparison.Ordinal))
            {
                var outcome = row.GetString("Outcome");
                byOutcome[outcome] = byOutcome.GetValueOrDefault(outcome) + (row.GetInt64("Count") ?? 0);
            }
        }

        return byOutcome;
    }

    /// <summary>
    /// Reads the hourly total until it is <paramref name="expected"/> or <paramref name="timeout"/> has passed, and
    /// returns the last value read (for the caller to assert on).
    /// </summary>
    public static async Task<long> WaitForHourlyTotalAsync(Azurite azurite, string tablePrefix, string customerId, long expected, TimeSpan timeout)
    {
        var waited = Stopwatch.StartNew();
        while (true)
        {
            var total = await HourlyTotalAsync(azurite, tablePrefix, customerId);
            if (total == expected || waited.Elapsed > timeout)
            {
                return total;
            }

            await Task.Delay(50);
        }
    }

    private static Azure.AsyncPageable<TableEntity> RowsAsync(Azurite azurite, string tablePrefix, string customerId) =>
        new TableClient(azurite.ConnectionString, tablePrefix + "Usage")
            .QueryAsync<TableEntity>(r => r.PartitionKey.CompareTo(customerId + "|") > 0 && r.PartitionKey.CompareTo(customerId + "}") < 0);

    private static async Task<long> SumAsync(Azurite azurite, string tablePrefix, string customerId, Func<TableEntity, bool> include)
    {
        long total = 0;
        await foreach (var row in RowsAsync(azurite, tablePrefix, customerId))
        {
            if (include(row))
            {
                total += row.GetInt64("Count") ?? 0;
            }
        }

        return total;
    }
}
