using Gateway.Core.Customers;
using Gateway.Core.Plans;
using Gateway.Core.Problems;
using Gateway.Core.Validation;
using Microsoft.Extensions.Options;

namespace Gateway.Core.Keys;

/// <summary>A key as just created: the only time its plaintext exists outside the caller's hands.</summary>
public sealed record IssuedApiKey(ApiKeyRecord Record, string Key);

/// <summary>A rotation's result: the old key (with its expiry) and the new one, whose plaintext exists only here.</summary>
public sealed record RotatedApiKey(ApiKeyRecord Old, IssuedApiKey New);

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

    /// <param name="maxLiveKeys">For a developer: refuse (409) when the customer already holds the plan's <see cref="Plan.MaxKeys"/> live keys on it.</param>
    public async Task<Outcome<IssuedApiKey>> IssueAsync(string? customerId, string? plan, CancellationToken cancellationToken, string? name = null, bool maxLiveKeys = false)
    {
        if ((InputRules.CustomerId("customerId", customerId) ?? (name is null ? null : InputRules.Name("name", name))) is { } invalid)
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

        if (maxLiveKeys)
        {
            var now = time.GetUtcNow();
            var live = (await keys.ListByCustomerAsync(customerId!, cancellationToken)).Count(k => k.Plan == found.Name && k.IsLive(now));
            if (live >= found.MaxKeys)
            {
                return ApiProblem.Conflict($"Customer '{customerId}' already holds {live} live key(s) on plan '{found.Name}', its maximum; revoke one first.");
            }
        }

        return await AddAsync(customerId!, found.Name, name?.Trim(), cancellationToken);
    }

    private async Task<Outcome<IssuedApiKey>> AddAsync(string customerId, string plan, string? name, CancellationToken cancellationToken)
    {
        var (key, keyId) = _format.Generate();
        var record = new ApiKeyRecord(
            keyId,
            customerId,
            plan,
            ApiKeyStatus.Active,
            ApiKeyHash.Compute(key),
            _format.Prefix + keyId,
            time.GetUtcNow(),
            null,
            name);
        await keys.AddAsync(record, cancellationToken);

        // Written, then confirmed: a customer deleted meanwhile (CustomerService.DeleteAsync reads keys, then deletes)
        // does not keep a live key. The key is revoked and the caller told the customer is gone.
        if (await customers.FindAsync(customerId, cancellationToken) is null)
        {
            if (await keys.SetStatusAsync(keyId, ApiKeyStatus.Revoked, time.GetUtcNow(), cancellationToken) is { } revoked)
            {
                await publisher.PublishAsync(new KeyChange(keyId, customerId, KeyChangeReasons.Revoked, revoked.StatusChangedAt ?? time.GetUtcNow()), cancellationToken);
            }

            return ApiProblem.NotFound("Customer", customerId);
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
        SetStatusAsync(keyId, ApiKeyStatus.Revoked, KeyChangeReasons.Revoked, cancellationToken);

    public Task<Outcome<ApiKeyRecord>> SuspendAsync(string keyId, CancellationToken cancellationToken) =>
        SetStatusAsync(keyId, ApiKeyStatus.Suspended, KeyChangeReasons.Suspended, cancellationToken);

    public Task<Outcome<ApiKeyRecord>> ReactivateAsync(string keyId, CancellationToken cancellationToken) =>
        SetStatusAsync(keyId, ApiKeyStatus.Active, KeyChangeReasons.Reactivated, cancellationToken);

    /// <summary>Gives a key a new name (the holder's label; the data plane does not read it, but the change is announced).</summary>
    public async Task<Outcome<ApiKeyRecord>> RenameAsync(string keyId, string? name, CancellationToken cancellationToken)
    {
        if (InputRules.Name("name", name) is { } invalid)
        {
            return invalid;
        }

        var renamed = ApiKeyFormat.IsKeyId(keyId) ? await keys.ChangeAsync(keyId, k => k with { Name = name!.Trim() }, cancellationToken) : null;
        if (renamed is null)
        {
            return ApiProblem.NotFound("Key", keyId);
        }

        // The data plane does not read the name, but the cached record is the key's record: announced like any change.
        await publisher.PublishAsync(new KeyChange(keyId, renamed.CustomerId, KeyChangeReasons.Renamed, time.GetUtcNow()), cancellationToken);
        return renamed;
    }

    /// <summary>Moves a key that is not revoked to another plan, and tells the gateways (a key change, as revoking does).</summary>
    public async Task<Outcome<ApiKeyRecord>> ChangePlanAsync(string keyId, string? plan, CancellationToken cancellationToken)
    {
        if (!plans.TryGet(plan, out var found))
        {
            return ApiProblem.Invalid("plan", $"must be one of: {string.Join(", ", plans.All.Select(p => p.Name))}.");
        }

        var changed = ApiKeyFormat.IsKeyId(keyId)
            ? await keys.ChangeAsync(keyId, k => k.Status == ApiKeyStatus.Revoked || k.Plan == found.Name ? null : k with { Plan = found.Name }, cancellationToken)
            : null;
        if (changed is null)
        {
            return ApiProblem.NotFound("Key", keyId);
        }

        if (changed.Status == ApiKeyStatus.Revoked)
        {
            return ApiProblem.Conflict($"Key '{keyId}' is revoked; its plan cannot change.");
        }

        await publisher.PublishAsync(new KeyChange(keyId, changed.CustomerId, KeyChangeReasons.PlanChanged, time.GetUtcNow()), cancellationToken);
        return changed;
    }

    /// <summary>
    /// Rotates an active key: a new key for the same customer, plan and name, and the old one expires after
    /// <paramref name="overlap"/> (both work until then; the data plane refuses the old one as revoked from its
    /// expiry on). The new key is written first, so a failure half-way leaves the old key working without expiry.
    /// </summary>
    public async Task<Outcome<RotatedApiKey>> RotateAsync(string keyId, TimeSpan overlap, CancellationToken cancellationToken)
    {
        var old = await FindAsync(keyId, cancellationToken);
        if (!old.Succeeded)
        {
            return old.Problem!;
        }

        var now = time.GetUtcNow();
        if (old.Value!.Status != ApiKeyStatus.Active || old.Value.ExpiresAt is not null)
        {
            return ApiProblem.Conflict($"Key '{keyId}' is {(old.Value.ExpiresAt is null ? old.Value.Status.ToString().ToLowerInvariant() : "already rotated")}; only an active key that was not rotated can be.");
        }

        var issued = await AddAsync(old.Value.CustomerId, old.Value.Plan, old.Value.Name, cancellationToken);
        if (!issued.Succeeded)
        {
            return issued.Problem!;
        }

        var expiresAt = now + overlap;
        var expiring = await keys.ChangeAsync(keyId, k => k.ExpiresAt is null ? k with { ExpiresAt = expiresAt } : null, cancellationToken);
        if (expiring is null)
        {
            return ApiProblem.NotFound("Key", keyId);
        }

        await publisher.PublishAsync(new KeyChange(keyId, expiring.CustomerId, KeyChangeReasons.Rotated, time.GetUtcNow()), cancellationToken);
        return new RotatedApiKey(expiring, issued.Value!);
    }

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

        await publisher.PublishAsync(new KeyChange(keyId, updated.CustomerId, reason, updated.StatusChangedAt ?? time.GetUtcNow()), cancellationToken);
        return updated;
    }
}
