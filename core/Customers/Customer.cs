using Azure.Data.Tables;
using Gateway.Core.Storage;

namespace Gateway.Core.Customers;

/// <summary>A company or developer that holds API keys and is billed for their calls.</summary>
public sealed record Customer(string Id, string Name, string Email, DateTimeOffset CreatedAt);

public interface ICustomerStore
{
    Task<Customer?> FindAsync(string customerId, CancellationToken cancellationToken);

    Task AddAsync(Customer customer, CancellationToken cancellationToken);

    Task<IReadOnlyList<Customer>> ListAsync(CancellationToken cancellationToken);
}

/// <summary>Customers in Table Storage: one partition per customer.</summary>
public sealed class TableCustomerStore(GatewayTables tables) : ICustomerStore
{
    private const string RowKey = "customer";

    public async Task<Customer?> FindAsync(string customerId, CancellationToken cancellationToken)
    {
        var response = await tables.Customers.GetEntityIfExistsAsync<TableEntity>(customerId, RowKey, cancellationToken: cancellationToken);
        return response.HasValue ? ToCustomer(response.Value!) : null;
    }

    public Task AddAsync(Customer customer, CancellationToken cancellationToken) =>
        tables.Customers.AddEntityAsync(
            new TableEntity(customer.Id, RowKey)
            {
                ["Name"] = customer.Name,
                ["Email"] = customer.Email,
                ["CreatedAt"] = customer.CreatedAt,
            },
            cancellationToken);

    public async Task<IReadOnlyList<Customer>> ListAsync(CancellationToken cancellationToken)
    {
        var customers = new List<Customer>();
        await foreach (var e in tables.Customers.QueryAsync<TableEntity>(cancellationToken: cancellationToken))
        {
            customers.Add(ToCustomer(e));
        }

        return customers;
    }

    private static Customer ToCustomer(TableEntity e) =>
        new(e.PartitionKey, e.GetString("Name"), e.GetString("Email"), e.GetDateTimeOffset("CreatedAt") ?? default);
}
