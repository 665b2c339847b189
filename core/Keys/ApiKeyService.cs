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
        var checkedPlan = await CheckIssueAsync(customerId, plan, name, cancellationToken);
        if (!checkedPlan.Succeeded)
        {
            return checkedPlan.Problem!;
        }

        var found = checkedPlan.Value!;
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

    /// <summary>The most keys one <see cref="IssueManyAsync"/> issues.</summary>
    public const int MaxBulkIssue = 1_000;

    /// <summary>
    /// Issues <paramref name="count"/> keys of one customer and plan at once (provisioning, migrations): the same keys
    /// <see cref="IssueAsync"/> would issue one by one, written in table transactions where storage allows. Not bound
    /// by the plan's <see cref="Plan.MaxKeys"/> (an admin operation). All or nothing for the caller: when the customer
    /// is deleted meanwhile, every key written is revoked and the answer is 404.
    /// </summary>
    public async Task<Outcome<IReadOnlyList<IssuedApiKey>>> IssueManyAsync(string? customerId, string? plan, int? count, string? name, CancellationToken cancellationToken)
    {
        if (count is not (>= 1 and <= MaxBulkIssue))
        {
            return ApiProblem.Invalid("count", $"is required, from 1 to {MaxBulkIssue}.");
        }

        var checkedPlan = await CheckIssueAsync(customerId, plan, name, cancellationToken);
        if (!checkedPlan.Succeeded)
        {
            return checkedPlan.Problem!;
        }

        var found = checkedPlan.Value!;

        var issued = new List<IssuedApiKey>(count.Value);
        for (var i = 0; i < count; i++)
        {
            issued.Add(NewKey(customerId!, found.Name, name?.Trim()));
        }

        await keys.AddManyAsync([.. issued.Select(k => k.Record)], cancellationToken);
        if (await customers.FindAsync(customerId!, cancellationToken) is null)
        {
            foreach (var key in issued)
            {
                await RevokeUnownedAsync(key.Record, cancellationToken);
            }

            return ApiProblem.NotFound("Customer", customerId!);
        }

        return new Outcome<IReadOnlyList<IssuedApiKey>>(issued, null);
    }

    /// <summary>What issuing one key or many checks first: the ids and name as sent, the plan, the customer's existence.</summary>
    private async Task<Outcome<Plan>> CheckIssueAsync(string? customerId, string? plan, string? name, CancellationToken cancellationToken)
    {
        if ((InputRules.CustomerId("customerId", customerId) ?? (name is null ? null : InputRules.Name("name", name))) is { } invalid)
        {
            return invalid;
        }

        if (!plans.TryGet(plan, out var found))
        {
            return ApiProblem.Invalid("plan", $"must be one of: {string.Join(", ", plans.All.Select(p => p.Name))}.");
        }

        return await customers.FindAsync(customerId!, cancellationToken) is null ? ApiProblem.NotFound("Customer", customerId!) : found;
    }

    private IssuedApiKey NewKey(string customerId, string plan, string? name)
    {
        var (key, keyId) = _format.Generate();
        return new IssuedApiKey(
            new ApiKeyRecord(keyId, customerId, plan, ApiKeyStatus.Active, ApiKeyHash.Compute(key), _format.Prefix + keyId, time.GetUtcNow(), null, name),
            key);
    }

    private async Task<Outcome<IssuedApiKey>> AddAsync(string customerId, string plan, string? name, CancellationToken cancellationToken)
    {
        var issued = NewKey(customerId, plan, name);
        await keys.AddAsync(issued.Record, cancellationToken);

        // Written, then confirmed: a customer deleted meanwhile (CustomerService.DeleteAsync reads keys, then deletes)
        // does not keep a live key. The key is revoked and the caller told the customer is gone.
        if (await customers.FindAsync(customerId, cancellationToken) is null)
        {
            await RevokeUnownedAsync(issued.Record, cancellationToken);
            return ApiProblem.NotFound("Customer", customerId);
        }

        return issued;
    }

    /// <summary>Revokes a key just written for a customer deleted meanwhile, and announces it.</summary>
    private async Task RevokeUnownedAsync(ApiKeyRecord key, CancellationToken cancellationToken)
    {
        if (await keys.SetStatusAsync(key.Id, ApiKeyStatus.Revoked, time.GetUtcNow(), cancellationToken) is { } revoked)
        {
            await publisher.PublishAsync(new KeyChange(key.Id, key.CustomerId, KeyChangeReasons.Revoked, revoked.StatusChangedAt ?? time.GetUtcNow()), cancellationToken);
        }
    }

    /// <summary>The page size of <see cref="ListAsync"/> when none is asked for, and the largest one allowed.</summary>
    public const int DefaultPageSize = 100, MaxPageSize = 1_000;

    /// <summary>A page of a customer's keys in id order; <paramref name="continuationToken"/> is the previous page's.</summary>
    public async Task<Outcome<KeyPage>> ListAsync(string? customerId, string? continuationToken, string? limit, CancellationToken cancellationToken)
    {
        if (InputRules.CustomerId("customerId", customerId) is { } invalid)
        {
            return invalid;
        }

        var pageSize = DefaultPageSize;
        if (limit is not null && (!int.TryParse(limit, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out pageSize) || pageSize is < 1 or > MaxPageSize))
        {
            return ApiProblem.Invalid("limit", $"must be a whole number from 1 to {MaxPageSize}.");
        }

        var after = string.IsNullOrEmpty(continuationToken) ? null : continuationToken;
        if (after is not null && !ApiKeyFormat.IsKeyId(after))
        {
            return ApiProblem.Invalid("continuationToken", "is not a token this API answered; start again without it.");
        }

        if (await customers.FindAsync(customerId!, cancellationToken) is null)
        {
            return ApiProblem.NotFound("Customer", customerId!);
        }

        return await keys.ListPageByCustomerAsync(customerId!, after, pageSize, cancellationToken);
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

    /// <summary>
    /// Revokes every rotated key whose overlap has ended (status <c>revoked</c>, changed at its expiry) and publishes
    /// each as a key change. Answers the keys this call revoked: the write is conditional on the record read (ETag),
    /// so when several instances sweep at once each lapsed key is revoked by exactly one of them, and only that one
    /// answers it. A key revoked, suspended or re-read as not lapsed meanwhile is left alone.
    /// </summary>
    public async Task<IReadOnlyList<ApiKeyRecord>> RevokeLapsedAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var revoked = new List<ApiKeyRecord>();
        await foreach (var lapsed in keys.ListLapsedAsync(now, cancellationToken))
        {
            // The change runs once per attempt; a 412 re-reads and runs it again, so after ChangeAsync the flag tells
            // whether the write that landed was this call's revocation.
            var revokedHere = false;
            var changed = await keys.ChangeAsync(
                lapsed.Id,
                k =>
                {
                    revokedHere = k.Status == ApiKeyStatus.Active && k.ExpiresAt is { } expiresAt && expiresAt <= now;
                    return revokedHere ? k with { Status = ApiKeyStatus.Revoked, StatusChangedAt = k.ExpiresAt } : null;
                },
                cancellationToken);
            if (revokedHere && changed is not null)
            {
                await publisher.PublishAsync(new KeyChange(changed.Id, changed.CustomerId, KeyChangeReasons.Revoked, changed.StatusChangedAt ?? now), cancellationToken);
                revoked.Add(changed);
            }
        }

        return revoked;
    }

    /// <summary>
    /// For jobs that audit each change once (billing): moves the key from <paramref name="from"/> to
    /// <paramref name="to"/>, conditional on the record read (ETag), and announces it. Answers the record when this
    /// call made the change; null when the key was not in <paramref name="from"/> (someone changed it first).
    /// </summary>
    public async Task<ApiKeyRecord?> SetStatusFromAsync(string keyId, ApiKeyStatus from, ApiKeyStatus to, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var changedHere = false;
        var changed = await keys.ChangeAsync(
            keyId,
            k =>
            {
                changedHere = k.Status == from;
                return changedHere ? k with { Status = to, StatusChangedAt = now } : null;
            },
            cancellationToken);
        if (!changedHere || changed is null)
        {
            return null;
        }

        var reason = to switch
        {
            ApiKeyStatus.Suspended => KeyChangeReasons.Suspended,
            ApiKeyStatus.Revoked => KeyChangeReasons.Revoked,
            _ => KeyChangeReasons.Reactivated,
        };
        await publisher.PublishAsync(new KeyChange(keyId, changed.CustomerId, reason, now), cancellationToken);
        return changed;
    }

    /// <summary>
    /// For jobs that audit each change once (billing): moves a key that is not revoked to <paramref name="plan"/> and
    /// announces it; null when the key is revoked, already on it, or the plan is unknown.
    /// </summary>
    public async Task<ApiKeyRecord?> MovePlanAsync(string keyId, string plan, CancellationToken cancellationToken)
    {
        if (!plans.TryGet(plan, out var found))
        {
            return null;
        }

        var changedHere = false;
        var changed = await keys.ChangeAsync(
            keyId,
            k =>
            {
                changedHere = k.Status != ApiKeyStatus.Revoked && k.Plan != found.Name;
                return changedHere ? k with { Plan = found.Name } : null;
            },
            cancellationToken);
        if (!changedHere || changed is null)
        {
            return null;
        }

        await publisher.PublishAsync(new KeyChange(keyId, changed.CustomerId, KeyChangeReasons.PlanChanged, time.GetUtcNow()), cancellationToken);
        return changed;
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
