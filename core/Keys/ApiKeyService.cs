using Gateway.Core.Customers;
using Gateway.Core.Plans;
using Gateway.Core.Problems;
using Gateway.Core.Validation;
using Microsoft.Extensions.Options;

namespace Gateway.Core.Keys;

/// <summary>A key as just created: the only time its plaintext exists outside the caller's hands.</summary>
public sealed record IssuedApiKey(ApiKeyRecord Record, string Key);

/// <summary>Issues, lists and changes the status of API keys; announces every change to the gateway caches.</summary>
public sealed class ApiKeyService(
    IApiKeyStore keys,
    ICustomerStore customers,
    PlanCatalog plans,
    IKeyChangePublisher publisher,
    IOptions<GatewayOptions> options,
    TimeProvider time)
{
    private readonly ApiKeyFormat _format = new(options.Value.Keys.Environment);

    public async Task<Outcome<IssuedApiKey>> IssueAsync(string? customerId, string? plan, CancellationToken cancellationToken)
    {
        if (InputRules.CustomerId("customerId", customerId) is { } invalid)
        {
            return invalid;
        }

        if (!plans.TryGet(plan, out var found))
        {
            return ApiProblem.Invalid("plan", $"must be one of: {string.Join(", ", plans.All.Select(p => p.Name))}.");
        }

        if (await customers.FindAsync(customerId!, cancellationToken) is null)
        {
            return ApiProblem.NotFound("Customer", customerId!);
        }

        var (key, keyId) = _format.Generate();
        var record = new ApiKeyRecord(
            keyId,
            customerId!,
            found.Name,
            ApiKeyStatus.Active,
            ApiKeyHash.Compute(key),
            _format.Prefix + keyId,
            time.GetUtcNow(),
            null);
        await keys.AddAsync(record, cancellationToken);

        // Written, then confirmed: a customer deleted meanwhile (CustomerService.DeleteAsync reads keys, then deletes)
        // does not keep a live key. The key is revoked and the caller told the customer is gone.
        if (await customers.FindAsync(customerId!, cancellationToken) is null)
        {
            await keys.SetStatusAsync(keyId, ApiKeyStatus.Revoked, time.GetUtcNow(), cancellationToken);
            return ApiProblem.NotFound("Customer", customerId!);
        }

        return new IssuedApiKey(record, key);
    }

    public async Task<Outcome<IReadOnlyList<ApiKeyRecord>>> ListAsync(string? customerId, CancellationToken cancellationToken)
    {
        if (InputRules.CustomerId("customerId", customerId) is { } invalid)
        {
            return invalid;
        }

        if (await customers.FindAsync(customerId!, cancellationToken) is null)
        {
            return ApiProblem.NotFound("Customer", customerId!);
        }

        return new Outcome<IReadOnlyList<ApiKeyRecord>>(await keys.ListByCustomerAsync(customerId!, cancellationToken), null);
    }

    /// <summary>A key by id; an id that is not of the shape key ids have names no key (404, no lookup).</summary>
    public async Task<Outcome<ApiKeyRecord>> FindAsync(string keyId, CancellationToken cancellationToken) =>
        ApiKeyFormat.IsKeyId(keyId) && await keys.FindAsync(keyId, cancellationToken) is { } key
            ? key
            : ApiProblem.NotFound("Key", keyId);

    public Task<Outcome<ApiKeyRecord>> RevokeAsync(string keyId, CancellationToken cancellationToken) =>
        SetStatusAsync(keyId, ApiKeyStatus.Revoked, "revoked", cancellationToken);

    public Task<Outcome<ApiKeyRecord>> SuspendAsync(string keyId, CancellationToken cancellationToken) =>
        SetStatusAsync(keyId, ApiKeyStatus.Suspended, "suspended", cancellationToken);

    public Task<Outcome<ApiKeyRecord>> ReactivateAsync(string keyId, CancellationToken cancellationToken) =>
        SetStatusAsync(keyId, ApiKeyStatus.Active, "reactivated", cancellationToken);

    private async Task<Outcome<ApiKeyRecord>> SetStatusAsync(string keyId, ApiKeyStatus status, string reason, CancellationToken cancellationToken)
    {
        // An id that is not of the shape key ids have names no key: 404 without a lookup.
        var updated = ApiKeyFormat.IsKeyId(keyId) ? await keys.SetStatusAsync(keyId, status, time.GetUtcNow(), cancellationToken) : null;
        if (updated is null)
        {
            return ApiProblem.NotFound("Key", keyId);
        }

        if (updated.Status != status)
        {
            return ApiProblem.Conflict($"Key '{keyId}' is {updated.Status.ToString().ToLowerInvariant()} and cannot become {status.ToString().ToLowerInvariant()}.");
        }

        await publisher.PublishAsync(new KeyChange(keyId, updated.CustomerId, reason), cancellationToken);
        return updated;
    }
}
