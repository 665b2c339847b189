using Azure.Data.Tables;
using Azure.Identity;
using Microsoft.Extensions.Options;

namespace Gateway.Core.Storage;

/// <summary>Names of the tables, before <see cref="StorageOptions.TablePrefix"/> is applied.</summary>
public static class TableNames
{
    public const string Customers = "Customers";
    public const string ApiKeys = "ApiKeys";
    public const string ApiKeysByCustomer = "ApiKeysByCustomer";
    public const string Usage = "Usage";

    /// <summary>The control plane's append-only audit log (partition per UTC day).</summary>
    public const string Audit = "Audit";

    public static readonly string[] All = [Customers, ApiKeys, ApiKeysByCustomer, Usage, Audit];
}

/// <summary>The gateway's tables in one storage account.</summary>
public sealed class GatewayTables
{
    private readonly TableServiceClient _service;
    private readonly string _prefix;

    public GatewayTables(IOptions<GatewayOptions> options, TableClientOptions clientOptions)
    {
        var storage = options.Value.Storage;
        _prefix = storage.TablePrefix;
        _service = storage.ConnectionString is { Length: > 0 } connectionString
            ? new TableServiceClient(connectionString, clientOptions)
            : new TableServiceClient(storage.TableEndpoint, new DefaultAzureCredential(), clientOptions);
        Customers = Table(TableNames.Customers);
        ApiKeys = Table(TableNames.ApiKeys);
        ApiKeysByCustomer = Table(TableNames.ApiKeysByCustomer);
        Usage = Table(TableNames.Usage);
    }

    public TableClient Customers { get; }
    public TableClient ApiKeys { get; }
    public TableClient ApiKeysByCustomer { get; }
    public TableClient Usage { get; }

    public TableClient Table(string name) => _service.GetTableClient(_prefix + name);

    /// <summary>Creates any missing table. Called once at start.</summary>
    public async Task EnsureCreatedAsync(CancellationToken cancellationToken)
    {
        foreach (var name in TableNames.All)
        {
            await _service.CreateTableIfNotExistsAsync(_prefix + name, cancellationToken);
        }
    }
}
