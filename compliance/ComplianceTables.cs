using Azure.Data.Tables;
using Gateway.Core.Storage;

namespace Gateway.Compliance;

/// <summary>
/// Compliance's tables in the gateway's storage account (same <c>TablePrefix</c>): each is created on first use by
/// this process, so neither host needs a setup step for them.
/// </summary>
public sealed class ComplianceTables(GatewayTables tables)
{
    /// <summary>Licence terms per key, one row per version (partition: key id).</summary>
    public const string KeyLicences = "KeyLicences";

    /// <summary>Evidence per key, UTC hour and writer (partition: key id).</summary>
    public const string Evidence = "ComplianceEvidence";

    /// <summary>Records delivered and their Bloom filter per key, UTC day and writer (partition: day and key shard).</summary>
    public const string Records = "ComplianceRecords";

    /// <summary>Flags (partition: key id; row: kind and sequence).</summary>
    public const string Flags = "ComplianceFlags";

    /// <summary>Canary records delivered (partition: canary id; row: key id): who received which canary on which day.</summary>
    public const string Canaries = "ComplianceCanaries";

    private readonly Dictionary<string, Lazy<Task<TableClient>>> _tables = new[] { KeyLicences, Evidence, Records, Flags, Canaries }
        .ToDictionary(n => n, n => new Lazy<Task<TableClient>>(() => CreateAsync(tables.Table(n))));

    public Task<TableClient> GetAsync(string name) => _tables[name].Value;

    private static async Task<TableClient> CreateAsync(TableClient table)
    {
        await table.CreateIfNotExistsAsync();
        return table;
    }
}
