using Gateway.Core.Problems;
using Gateway.Core.Validation;

namespace Gateway.Core.Customers;

/// <summary>Creates and finds customers for the admin API. Input is checked before any storage access.</summary>
public sealed class CustomerService(ICustomerStore store, TimeProvider time)
{
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
}
