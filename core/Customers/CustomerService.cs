using System.Net.Mail;
using System.Security.Cryptography;
using Gateway.Core.Problems;

namespace Gateway.Core.Customers;

/// <summary>Creates and finds customers for the admin API.</summary>
public sealed class CustomerService(ICustomerStore store, TimeProvider time)
{
    private const string IdAlphabet = "0123456789abcdefghijklmnopqrstuvwxyz";

    public async Task<Outcome<Customer>> CreateAsync(string? name, string? email, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(name) || name.Length > 200)
        {
            return ApiProblem.Invalid("name", "is required and at most 200 characters.");
        }

        if (string.IsNullOrWhiteSpace(email) || email.Length > 254 || !MailAddress.TryCreate(email, out _))
        {
            return ApiProblem.Invalid("email", "must be a valid e-mail address.");
        }

        var customer = new Customer($"cus_{RandomNumberGenerator.GetString(IdAlphabet, 16)}", name.Trim(), email.Trim(), time.GetUtcNow());
        await store.AddAsync(customer, cancellationToken);
        return customer;
    }

    public async Task<Outcome<Customer>> FindAsync(string customerId, CancellationToken cancellationToken) =>
        await store.FindAsync(customerId, cancellationToken) is { } customer ? customer : ApiProblem.NotFound("Customer", customerId);

    public Task<IReadOnlyList<Customer>> ListAsync(CancellationToken cancellationToken) => store.ListAsync(cancellationToken);
}
