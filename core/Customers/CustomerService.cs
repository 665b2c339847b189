using Gateway.Core.Keys;
using Gateway.Core.Problems;
using Gateway.Core.Validation;

namespace Gateway.Core.Customers;

/// <summary>Creates, finds, changes and deletes customers for the admin API. Input is checked before any storage access.</summary>
public sealed class CustomerService(ICustomerStore store, IApiKeyStore keys, TimeProvider time)
{
    /// <summary>The most customers one list answer holds, and the number when none is asked for.</summary>
    public const int MaxPageSize = 200;
    public const int DefaultPageSize = 50;

    /// <summary>The longest search text.</summary>
    public const int MaxSearchLength = 100;

    public async Task<Outcome<Customer>> CreateAsync(string? name, string? email, CancellationToken cancellationToken)
    {
        if ((InputRules.Name("name", name) ?? InputRules.Email("email", email)) is { } invalid)
        {
            return invalid;
        }

        var customer = new Customer(CustomerIds.New(), name!.Trim(), email!.Trim(), time.GetUtcNow());
        await store.AddAsync(customer, cancellationToken);
        return customer;
    }

    /// <summary>A customer by id; an id that is not of the shape customer ids have names no customer (404, no lookup).</summary>
    public async Task<Outcome<Customer>> FindAsync(string customerId, CancellationToken cancellationToken) =>
        CustomerIds.IsWellFormed(customerId) && await store.FindAsync(customerId, cancellationToken) is { } customer
            ? customer
            : ApiProblem.NotFound("Customer", customerId);

    public Task<IReadOnlyList<Customer>> ListAsync(CancellationToken cancellationToken) => store.ListAsync(cancellationToken);

    /// <summary>
    /// A page of customers in id order, optionally only those whose name or e-mail contains <paramref name="search"/>
    /// (case-insensitive); <paramref name="continuationToken"/> is the previous page's.
    /// </summary>
    public async Task<Outcome<CustomerPage>> ListAsync(string? search, string? continuationToken, string? limit, CancellationToken cancellationToken)
    {
        var pageSize = DefaultPageSize;
        if (limit is not null && (!int.TryParse(limit, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out pageSize) || pageSize < 1 || pageSize > MaxPageSize))
        {
            return ApiProblem.Invalid("limit", $"must be a whole number from 1 to {MaxPageSize}.");
        }

        var text = string.IsNullOrWhiteSpace(search) ? null : search.Trim();
        if (text is not null && InputRules.Name("search", text) is not null || text?.Length > MaxSearchLength)
        {
            return ApiProblem.Invalid("search", $"must be at most {MaxSearchLength} characters, without control characters.");
        }

        var after = string.IsNullOrEmpty(continuationToken) ? null : continuationToken;
        if (after is not null && !CustomerIds.IsWellFormed(after))
        {
            return ApiProblem.Invalid("continuationToken", "is not a token this API answered; start again without it.");
        }

        return await store.ListPageAsync(text, after, pageSize, cancellationToken);
    }

    /// <summary>Changes name and/or e-mail (a field left out keeps its value; at least one is required).</summary>
    public async Task<Outcome<Customer>> UpdateAsync(string customerId, string? name, string? email, CancellationToken cancellationToken)
    {
        if (name is null && email is null)
        {
            return ApiProblem.Invalid("body", "must change 'name', 'email' or both.");
        }

        if (((name is null ? null : InputRules.Name("name", name)) ?? (email is null ? null : InputRules.Email("email", email))) is { } invalid)
        {
            return invalid;
        }

        var current = await FindAsync(customerId, cancellationToken);
        if (!current.Succeeded)
        {
            return current;
        }

        var updated = await store.UpdateAsync(customerId, name?.Trim() ?? current.Value!.Name, email?.Trim() ?? current.Value!.Email, cancellationToken);
        return updated is null ? ApiProblem.NotFound("Customer", customerId) : updated;
    }

    /// <summary>
    /// Deletes a customer that holds no live key (active or suspended: a suspended key can be reactivated); 409
    /// otherwise. Its revoked keys and its usage stay, for billing and the audit trail. Ordering against a key issued
    /// meanwhile: delete reads the keys, then removes the customer; issuing writes the key, then confirms the customer
    /// (<see cref="ApiKeyService.IssueAsync"/>): either delete sees the key (409) or issuing sees the customer gone.
    /// </summary>
    public async Task<Outcome<Customer>> DeleteAsync(string customerId, CancellationToken cancellationToken)
    {
        var current = await FindAsync(customerId, cancellationToken);
        if (!current.Succeeded)
        {
            return current;
        }

        var live = (await keys.ListByCustomerAsync(customerId, cancellationToken)).Count(k => k.Status != ApiKeyStatus.Revoked);
        if (live > 0)
        {
            return ApiProblem.Conflict($"Customer '{customerId}' holds {live} key(s) that are not revoked; revoke them first.");
        }

        return await store.DeleteAsync(customerId, cancellationToken) ? current.Value! : ApiProblem.NotFound("Customer", customerId);
    }
}
