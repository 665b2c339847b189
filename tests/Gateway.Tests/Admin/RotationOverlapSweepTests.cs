using System.Net.Http.Json;
using System.Text.Json;
using Gateway.ControlPlane.Audit;
using Gateway.ControlPlane.Keys;
using Gateway.Core.Keys;
using Gateway.Functions.Keys;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Admin;

/// <summary>
/// After a rotation's overlap the old key is revoked for real: listed as revoked, audited once by <c>system</c>, even
/// when several sweeps run at once; by the gateway's hosted service on its clock's tick and by the function app's timer.
/// </summary>
[Collection(UsesAzurite.Name)]
public sealed class RotationOverlapSweepTests(Azurite azurite) : GatewayTest(azurite)
{
    [Fact]
    public async Task Sweep_BeforeTheOverlapEnds_LeavesTheKey_AndAfterIt_RevokesAndAuditsIt()
    {
        var clock = new FakeTimeProvider(TestClock.RunStart);
        await using var gateway = await StartGatewayAsync(services: s => OnTheTestsClock(s, clock));
        var (oldKey, newKey) = await RotateAsync(gateway, await gateway.CreateCustomerAsync(), overlapSeconds: 30);
        var sweep = gateway.Services.GetRequiredService<RotationOverlapSweep>();

        var early = await sweep.SweepAsync(default);
        var statusDuring = await StatusAsync(gateway, oldKey);
        clock.Advance(TimeSpan.FromSeconds(30));
        var revoked = await sweep.SweepAsync(default);
        var again = await sweep.SweepAsync(default);

        Assert.True(RotationOverlapSweep.Interval > TimeSpan.FromSeconds(30), "the gateway's own sweep must not tick in this test");
        Assert.Equal(0, early);
        Assert.Equal("active", statusDuring);
        Assert.Equal(1, revoked);
        Assert.Equal(0, again);
        var key = await gateway.Admin.GetFromJsonAsync<JsonElement>($"admin/v1/keys/{oldKey}");
        Assert.Equal("revoked", key.GetProperty("status").GetString());
        Assert.Equal(TestClock.RunStart.AddSeconds(30), key.GetProperty("statusChangedAt").GetDateTimeOffset());
        Assert.Equal("active", await StatusAsync(gateway, newKey));
        var entry = Assert.Single(await AuditAsync(gateway, oldKey, "key.revoked"));
        Assert.Equal(("system", "system"), (entry.GetProperty("actor").GetString(), entry.GetProperty("role").GetString()));
        Assert.StartsWith("rotation overlap ended", entry.GetProperty("summary").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sweep_TwoAtOnce_BothReadingTheKeyBeforeEitherWrites_RevokeAndAuditItExactlyOnce()
    {
        var clock = new FakeTimeProvider(TestClock.RunStart);
        await using var gateway = await StartGatewayAsync(services: s => OnTheTestsClock(s, clock));
        var (oldKey, _) = await RotateAsync(gateway, await gateway.CreateCustomerAsync(), overlapSeconds: 20);
        clock.Advance(TimeSpan.FromSeconds(21));
        using var bothRead = new Barrier(2);
        var store = new RacingKeyStore(gateway.Services.GetRequiredService<IApiKeyStore>(), bothRead);
        RotationOverlapSweep Sweep() => new(
            ActivatorUtilities.CreateInstance<ApiKeyService>(gateway.Services, store),
            gateway.Services.GetRequiredService<AuditLog>(),
            clock);

        var counts = await Task.WhenAll(Task.Run(() => Sweep().SweepAsync(default)), Task.Run(() => Sweep().SweepAsync(default)));

        Assert.Equal(2, store.FirstAttemptsThatMetAtTheBarrier);
        Assert.Equal([0, 1], counts.Order());
        Assert.Equal("revoked", await StatusAsync(gateway, oldKey));
        Assert.Single(await AuditAsync(gateway, oldKey, "key.revoked"));
    }

    [Fact]
    public async Task HostedService_OnTheClocksTick_RevokesTheLapsedKey()
    {
        var clock = new FakeTimeProvider(TestClock.RunStart);
        await using var gateway = await StartGatewayAsync(services: s => s.AddSingleton<TimeProvider>(clock));
        var (oldKey, _) = await RotateAsync(gateway, await gateway.CreateCustomerAsync(), overlapSeconds: 30);

        clock.Advance(RotationOverlapSweep.Interval);
        var status = await StatusAsync(gateway, oldKey);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (status != "revoked" && DateTime.UtcNow < deadline)
        {
            // The tick has fired; the sweep it started runs against storage. Poll its effect, never the clock.
            await Task.Yield();
            status = await StatusAsync(gateway, oldKey);
        }

        Assert.Equal("revoked", status);
        Assert.Single(await AuditAsync(gateway, oldKey, "key.revoked"));
    }

    [Fact]
    public async Task TimerFunction_RevokesALapsedKey_InTheSameTables()
    {
        await using var gateway = await StartGatewayAsync();
        var (oldKey, _) = await RotateAsync(gateway, await gateway.CreateCustomerAsync(), overlapSeconds: 0);
        var functions = new FunctionHost(TestGateway.DefaultSettings(Azurite, Upstream, gateway.TablePrefix));
        try
        {
            await functions.Create<RotationOverlapSweepFunction>().Run(new Microsoft.Azure.Functions.Worker.TimerInfo(), default);
        }
        finally
        {
            await functions.StopAsync();
        }

        Assert.Equal("revoked", await StatusAsync(gateway, oldKey));
        Assert.Single(await AuditAsync(gateway, oldKey, "key.revoked"));
    }

    /// <summary>
    /// The test's clock. The gateway's own sweep first ticks one <see cref="RotationOverlapSweep.Interval"/> after
    /// start; tests that run sweeps themselves keep the clock short of that, so theirs are the only ones.
    /// </summary>
    private static void OnTheTestsClock(IServiceCollection services, TimeProvider clock) => services.AddSingleton(clock);

    private static async Task<(string Old, string New)> RotateAsync(TestGateway gateway, string customer, int overlapSeconds)
    {
        var (keyId, _) = await gateway.IssueKeyAsync(customer);
        using var rotated = await gateway.Admin.PostAsJsonAsync($"admin/v1/keys/{keyId}/rotate", new { overlap = overlapSeconds });
        rotated.EnsureSuccessStatusCode();
        var body = await rotated.Content.ReadFromJsonAsync<JsonElement>();
        return (keyId, body.GetProperty("new").GetProperty("id").GetString()!);
    }

    private static async Task<string?> StatusAsync(TestGateway gateway, string keyId) =>
        (await gateway.Admin.GetFromJsonAsync<JsonElement>($"admin/v1/keys/{keyId}")).GetProperty("status").GetString();

    private static async Task<List<JsonElement>> AuditAsync(TestGateway gateway, string target, string action) =>
        [.. (await gateway.Admin.GetFromJsonAsync<JsonElement>($"admin/v1/audit?from=2030-06-01&to=2030-07-01&target={target}&action={action}"))
            .GetProperty("items").EnumerateArray()];

    /// <summary>
    /// The real store, except that each call's first attempt at a change waits, after reading the record and before
    /// writing it, until the other sweep's has read it too: both then write against the same ETag.
    /// </summary>
    private sealed class RacingKeyStore(IApiKeyStore inner, Barrier bothRead) : IApiKeyStore
    {
        private int _met;

        public int FirstAttemptsThatMetAtTheBarrier => _met;

        public Task<ApiKeyRecord?> FindAsync(string keyId, CancellationToken cancellationToken) => inner.FindAsync(keyId, cancellationToken);

        public Task AddAsync(ApiKeyRecord key, CancellationToken cancellationToken) => inner.AddAsync(key, cancellationToken);

        public Task<IReadOnlyList<ApiKeyRecord>> ListByCustomerAsync(string customerId, CancellationToken cancellationToken) => inner.ListByCustomerAsync(customerId, cancellationToken);

        public Task<ApiKeyRecord?> SetStatusAsync(string keyId, ApiKeyStatus status, DateTimeOffset at, CancellationToken cancellationToken) =>
            inner.SetStatusAsync(keyId, status, at, cancellationToken);

        public IAsyncEnumerable<ApiKeyRecord> ListLapsedAsync(DateTimeOffset until, CancellationToken cancellationToken) => inner.ListLapsedAsync(until, cancellationToken);

        public Task AddManyAsync(IReadOnlyList<ApiKeyRecord> keys, CancellationToken cancellationToken) => inner.AddManyAsync(keys, cancellationToken);

        public Task<KeyPage> ListPageByCustomerAsync(string customerId, string? afterKeyId, int pageSize, CancellationToken cancellationToken) =>
            inner.ListPageByCustomerAsync(customerId, afterKeyId, pageSize, cancellationToken);

        public Task<ApiKeyRecord?> ChangeAsync(string keyId, Func<ApiKeyRecord, ApiKeyRecord?> change, CancellationToken cancellationToken)
        {
            var first = true;
            return inner.ChangeAsync(
                keyId,
                record =>
                {
                    var changed = change(record);
                    if (first)
                    {
                        first = false;
                        if (bothRead.SignalAndWait(TimeSpan.FromSeconds(30)))
                        {
                            Interlocked.Increment(ref _met);
                        }
                    }

                    return changed;
                },
                cancellationToken);
        }
    }
}
