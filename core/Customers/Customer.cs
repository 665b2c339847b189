using Azure;
using Azure.Data.Tables;
using Gateway.Core.Storage;

namespace Gateway.Core.Customers;

/// <summary>A company or developer that holds API keys and is billed for their calls.</summary>
public sealed record Customer(string Id, string Name, string Email, DateTimeOffset CreatedAt);

/// <summary>One page of customers, in id order; <see cref="ContinuationToken"/> (the last id) asks for the next page.</summary>
public sealed record CustomerPage(IReadOnlyList<Customer> Items, string? ContinuationToken);

public interface ICustomerStore
{
    Task<Customer?> FindAsync(string customerId, CancellationToken cancellationToken);

    Task AddAsync(Customer customer, CancellationToken cancellationToken);

    Task<IReadOnlyList<Customer>> ListAsync(CancellationToken cancellationToken);

    /// <summary>Customers with ids after <paramref name="after"/> whose name or e-mail contains <paramref name="search"/> (case-insensitive).</summary>
    Task<CustomerPage> ListPageAsync(string? search, string? after, int pageSize, CancellationToken cancellationToken);

    /// <summary>Replaces name and e-mail; null when the customer does not exist.</summary>
    Task<Customer?> UpdateAsync(string customerId, string name, string email, CancellationToken cancellationToken);

    /// <summary>Removes the customer; false when it did not exist.</summary>
    Task<bool> DeleteAsync(string customerId, CancellationToken cancellationToken);
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

    public async Task<CustomerPage> ListPageAsync(string? search, string? after, int pageSize, CancellationToken cancellationToken)
    {
        // Table Storage cannot search inside a string: the page is filled by scanning ids in order from the token on.
        var items = new List<Customer>(pageSize);
        var query = after is null
            ? tables.Customers.QueryAsync<TableEntity>(cancellationToken: cancellationToken)
            : tables.Customers.QueryAsync<TableEntity>(e => e.PartitionKey.CompareTo(after) > 0, cancellationToken: cancellationToken);
        await foreach (var e in query)
        {
            var customer = ToCustomer(e);
            if (search is null
                || customer.Name.Contains(search, StringComparison.OrdinalIgnoreCase)
                || customer.Email.Contains(search, StringComparison.OrdinalIgnoreCase))
            {
                if (items.Count == pageSize)
                {
                    return new CustomerPage(items, items[^1].Id);
                }

                items.Add(customer);
            }
        }

        return new CustomerPage(items, null);
    }

    public async Task<Customer?> UpdateAsync(string customerId, string name, string email, CancellationToken cancellationToken)
    {
        var response = await tables.Customers.GetEntityIfExistsAsync<TableEntity>(customerId, RowKey, cancellationToken: cancellationToken);
        if (!response.HasValue)
        {
            return null;
        }

        var entity = response.Value!;
        entity["Name"] = name;
        entity["Email"] = email;
        try
        {
            // Conditional on the row read: a customer deleted meanwhile is not brought back.
            await tables.Customers.UpdateEntityAsync(entity, entity.ETag, TableUpdateMode.Replace, cancellationToken);
        }
        catch (RequestFailedException e) when (e.Status is 404 or 412)
        {
            return await FindAsync(customerId, cancellationToken) is null ? null : await UpdateAsync(customerId, name, email, cancellationToken);
        }

        return ToCustomer(entity);
    }

    public async Task<bool> DeleteAsync(string customerId, CancellationToken cancellationToken)
    {
        try
        {
            // The SDK answers a missing entity's 404 rather than throwing it.
            var response = await tables.Customers.DeleteEntityAsync(customerId, RowKey, ETag.All, cancellationToken);
            return response.Status != 404;
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return false;
        }
    }

    private static Customer ToCustomer(TableEntity e) =>
        new(e.PartitionKey, e.GetString("Name"), e.GetString("Email"), e.GetDateTimeOffset("CreatedAt") ?? default);
}
