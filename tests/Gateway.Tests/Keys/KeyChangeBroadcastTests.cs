using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Azure.Messaging.ServiceBus;
using Gateway.Core.Keys;
using Gateway.Functions.Admin;
using Gateway.Proxy.Keys;
using Gateway.Proxy.Telemetry;
using Gateway.ServiceBusBroker;
using Gateway.Tests.Infrastructure;
using Gateway.Tests.ServiceBus;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Xunit.Abstractions;

namespace Gateway.Tests.Keys;

/// <summary>
/// Key changes reach every gateway instance over Service Bus (the test broker, <see cref="ServiceBusTestBroker"/>):
/// three gateways on their own ports share one table prefix, each with its own subscription on <c>key-changes</c>.
/// The small version of issue 13's revocation fault test: a revoke under load, through one instance's admin API and
/// through the function app, is served by no instance more than 1 s after its response; with the broker gone, within
/// the cache refresh; and a late message never brings back an older state.
/// </summary>
[Collection(UsesAzurite.Name)]
public sealed class KeyChangeBroadcastTests(Azurite azurite, ITestOutputHelper output) : GatewayTest(azurite)
{
    private const int Instances = 3;
    private const int WorkersPerInstance = 2;
    private static readonly TimeSpan Guarantee = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    public enum RevokedThrough
    {
        GatewayAdminApi,
        FunctionApp,
    }

    [Theory]
    [InlineData(RevokedThrough.GatewayAdminApi)]
    [InlineData(RevokedThrough.FunctionApp)]
    public async Task RevokeUnderLoad_OnThreeInstances_NoInstanceServesTheKeyOneSecondAfterTheRevokeIsAnswered(RevokedThrough through)
    {
        await using var cluster = await Cluster.StartAsync(this, cacheRefresh: "00:05:00");
        var (id, key) = await cluster.IssueWarmKeyAsync();
        var functions = through == RevokedThrough.FunctionApp ? cluster.FunctionApp() : null;

        var run = await LoadAsync(cluster.Gateways, key, after: TimeSpan.FromSeconds(2.5), change: async () =>
        {
            if (functions is null)
            {
                using var response = await cluster.Gateways[0].Admin.PostAsync($"admin/v1/keys/{id}/revoke", null);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            }
            else
            {
                var response = await functions.InvokeAsync<RevokeKeyFunction>((f, r) => f.Run(r, id), "POST", $"/admin/v1/keys/{id}/revoke");
                Assert.Equal(200, response.Status);
            }
        });
        if (functions is not null)
        {
            await functions.StopAsync();
        }

        run.Report(output, $"revoke through the {through}, broker up");
        run.AssertNoServerErrors();
        for (var instance = 0; instance < Instances; instance++)
        {
            run.AssertServedBeforeTheChange(instance);
            run.AssertRefusedAllStartedAfter(instance, Guarantee, HttpStatusCode.Unauthorized);
        }

        // The other instances learnt of it over Service Bus (the cache refresh is 5 minutes here).
        for (var instance = through == RevokedThrough.GatewayAdminApi ? 1 : 0; instance < Instances; instance++)
        {
            Assert.True(cluster.Received(instance, KeyChangeReasons.Revoked) >= 1, $"gateway-{instance + 1} received no revoke over Service Bus");
        }
    }

    [Fact]
    public async Task RevokeUnderLoad_WithTheBrokerGone_ReachesEveryInstanceWithinTheCacheRefreshAndNothingFails()
    {
        var cacheRefresh = TimeSpan.FromSeconds(2);
        var storageRead = TimeSpan.FromSeconds(1);
        await using var cluster = await Cluster.StartAsync(this, cacheRefresh: "00:00:02");
        var (id, key) = await cluster.IssueWarmKeyAsync();
        var answered = TimeSpan.Zero;

        var run = await LoadAsync(cluster.Gateways, key, after: cacheRefresh + TimeSpan.FromSeconds(2.5), change: async () =>
        {
            await cluster.StopBrokerAsync();
            await Task.Delay(TimeSpan.FromMilliseconds(500));
            var started = Stopwatch.GetTimestamp();
            using var response = await cluster.Gateways[0].Admin.PostAsync($"admin/v1/keys/{id}/revoke", null);
            answered = Stopwatch.GetElapsedTime(started);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        });

        run.Report(output, $"revoke with the broker stopped, CacheRefresh {cacheRefresh.TotalSeconds} s; the revoke was answered in {answered.TotalMilliseconds:0} ms");
        run.AssertNoServerErrors();

        // The instance that stored the change applied it before answering; the others only by their cache refresh.
        run.AssertServedBeforeTheChange(0);
        run.AssertRefusedAllStartedAfter(0, TimeSpan.Zero, HttpStatusCode.Unauthorized);
        for (var instance = 1; instance < Instances; instance++)
        {
            run.AssertServedBeforeTheChange(instance);
            run.AssertRefusedAllStartedAfter(instance, cacheRefresh + storageRead, HttpStatusCode.Unauthorized);
            Assert.Equal(0, cluster.Received(instance, KeyChangeReasons.Revoked));
        }

        Assert.InRange(answered, TimeSpan.Zero, TimeSpan.FromSeconds(1) + TimeSpan.FromSeconds(2));
    }

    [Fact]
    public async Task LateSuspendMessage_AfterTheKeyWasReactivated_OnlyMakesTheInstanceReReadTheActiveKey()
    {
        await using var cluster = await Cluster.StartAsync(this, cacheRefresh: "00:05:00");
        var (id, key) = await cluster.IssueWarmKeyAsync();
        var other = cluster.Gateways[1];

        using (var suspend = await cluster.Gateways[0].Admin.PostAsync($"admin/v1/keys/{id}/suspend", null))
        {
            Assert.Equal(HttpStatusCode.OK, suspend.StatusCode);
        }

        await cluster.WaitReceivedAsync(1, KeyChangeReasons.Suspended, 1);
        Assert.Equal(HttpStatusCode.PaymentRequired, await StatusAsync(other, key));
        var suspendedAt = (await cluster.Gateways[0].Services.GetRequiredService<IApiKeyStore>().FindAsync(id, CancellationToken.None))!.StatusChangedAt!.Value;

        using (var reactivate = await cluster.Gateways[0].Admin.PostAsync($"admin/v1/keys/{id}/reactivate", null))
        {
            Assert.Equal(HttpStatusCode.OK, reactivate.StatusCode);
        }

        await cluster.WaitReceivedAsync(1, KeyChangeReasons.Reactivated, 1);
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(other, key));

        // The suspension's message again, late (as a redelivery or a slow publisher would bring it), and an older one.
        var customer = (await cluster.Gateways[0].Services.GetRequiredService<IApiKeyStore>().FindAsync(id, CancellationToken.None))!.CustomerId;
        await using (var client = BrokerClient.Connect(cluster.Broker!))
        await using (var sender = client.CreateSender("key-changes"))
        {
            await sender.SendMessageAsync(KeyChangeTopic.ToMessage(new KeyChange(id, customer, KeyChangeReasons.Suspended, suspendedAt.AddTicks(-1))));
            await sender.SendMessageAsync(KeyChangeTopic.ToMessage(new KeyChange(id, customer, KeyChangeReasons.Revoked, suspendedAt.AddTicks(-2))));
        }

        await cluster.WaitReceivedAsync(1, KeyChangeReasons.Suspended, 2);
        await cluster.WaitReceivedAsync(1, KeyChangeReasons.Revoked, 1);
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(other, key));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(other, key));
    }

    [Fact]
    public async Task RevokeMessage_ArrivingWhileAnOlderReadOfTheKeyIsInFlight_IsNotUndoneByThatRead()
    {
        const int trials = 12;
        await using var cluster = await Cluster.StartAsync(this, cacheRefresh: "00:05:00", holdReadsOn: 1);
        var other = cluster.Gateways[1];
        var store = other.Services.GetRequiredService<PausingApiKeyStore>();
        var customer = await cluster.Gateways[0].CreateCustomerAsync();
        var failures = new List<string>();

        for (var trial = 0; trial < trials; trial++)
        {
            var (id, key) = await cluster.Gateways[0].IssueKeyAsync(customer);
            var hold = store.Hold(id);
            var firstCall = StatusAsync(other, key);
            Assert.Equal(ApiKeyStatus.Active, (await hold.Answered.WaitAsync(Patience))!.Status);

            // Storage answered "active" to the other instance's read; now the revoke is stored and its message applied there.
            var received = cluster.Received(1, KeyChangeReasons.Revoked);
            using (var revoke = await cluster.Gateways[0].Admin.PostAsync($"admin/v1/keys/{id}/revoke", null))
            {
                Assert.Equal(HttpStatusCode.OK, revoke.StatusCode);
            }

            await cluster.WaitReceivedAsync(1, KeyChangeReasons.Revoked, received + 1);
            hold.Release();
            var first = await firstCall.WaitAsync(Patience);
            var after = await StatusAsync(other, key);
            var settled = await StatusAsync(other, key);
            if (after != HttpStatusCode.Unauthorized || settled != HttpStatusCode.Unauthorized)
            {
                failures.Add($"trial {trial}: first call {first}, then {after} and {settled} after the revoke's message was applied");
            }
        }

        Assert.True(failures.Count == 0, $"{failures.Count} of {trials} trials served a revoked key:\n{string.Join("\n", failures)}");
    }

    [Fact]
    public async Task KeyChangeMessage_OfARevoke_NamesTheKeyAndTheChangeOnlyAndIsSentOncePerChange()
    {
        await using var cluster = await Cluster.StartAsync(this, cacheRefresh: "00:05:00", instances: 1, extraSubscription: "observer");
        var customer = await cluster.Gateways[0].CreateCustomerAsync();
        var (id, key) = await cluster.Gateways[0].IssueKeyAsync(customer);
        for (var i = 0; i < 2; i++)
        {
            // Revoking twice answers the same stored change twice: the second send has the same MessageId.
            using var revoke = await cluster.Gateways[0].Admin.PostAsync($"admin/v1/keys/{id}/revoke", null);
            Assert.Equal(HttpStatusCode.OK, revoke.StatusCode);
        }

        var record = (await cluster.Gateways[0].Services.GetRequiredService<IApiKeyStore>().FindAsync(id, CancellationToken.None))!;
        await using var client = BrokerClient.Connect(cluster.Broker!);
        await using var receiver = client.CreateReceiver("key-changes", "observer");
        var message = await receiver.ReceiveOneAsync(BrokerClient.Deadline());
        await receiver.CompleteMessageAsync(message);

        Assert.Equal($"{id}/revoked/{record.StatusChangedAt!.Value.UtcTicks}", message.MessageId);
        Assert.Equal("revoked", message.Subject);
        var body = message.Body.ToString();
        var json = JsonDocument.Parse(body).RootElement;
        Assert.Equal(id, json.GetProperty("keyId").GetString());
        Assert.Equal(customer, json.GetProperty("customerId").GetString());
        Assert.Equal("revoked", json.GetProperty("reason").GetString());
        Assert.Equal(record.StatusChangedAt, json.GetProperty("changedAt").GetDateTimeOffset());
        Assert.DoesNotContain(key, body, StringComparison.Ordinal);
        Assert.DoesNotContain(record.Hash, body, StringComparison.Ordinal);
        Assert.DoesNotContain(key[^20..], body, StringComparison.Ordinal);
        Assert.Null(await receiver.ReceiveMessageAsync(BrokerClient.Silence));
    }

    [Fact]
    public async Task KeyChangeMessage_NotAKeyChange_IsDeadLetteredAndTheInstanceKeepsServing()
    {
        await using var cluster = await Cluster.StartAsync(this, cacheRefresh: "00:05:00", instances: 1);
        var (_, key) = await cluster.IssueWarmKeyAsync();
        await using var client = BrokerClient.Connect(cluster.Broker!);
        await using (var sender = client.CreateSender("key-changes"))
        {
            await sender.SendMessageAsync(new ServiceBusMessage(Encoding.UTF8.GetBytes("{\"keyId\":\"../../etc\",\"reason\":\"revoked\"}")));
        }

        await using var deadLetters = client.CreateReceiver("key-changes", "gateway-1", new ServiceBusReceiverOptions { SubQueue = SubQueue.DeadLetter });
        var dead = await deadLetters.ReceiveOneAsync(BrokerClient.Deadline());
        Assert.Equal("not-a-key-change", dead.DeadLetterReason);
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(cluster.Gateways[0], key));
    }

    [Fact]
    public async Task SingleNode_WithoutServiceBus_KeepsTheInProcessPathAndNoSubscriber()
    {
        await using var gateway = await StartGatewayAsync();
        Assert.IsType<InProcessKeyChangePublisher>(gateway.Services.GetRequiredService<IKeyChangePublisher>());
        Assert.DoesNotContain(gateway.Services.GetServices<IHostedService>(), s => s is KeyChangeSubscriber);
        Assert.Null(gateway.Services.GetService<KeyChangeTopic>());

        var customer = await gateway.CreateCustomerAsync();
        var (id, key) = await gateway.IssueKeyAsync(customer);
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(gateway, key));
        using (var revoke = await gateway.Admin.PostAsync($"admin/v1/keys/{id}/revoke", null))
        {
            Assert.Equal(HttpStatusCode.OK, revoke.StatusCode);
        }

        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(gateway, key));
    }

    [Theory]
    [InlineData("gateway-7", "ca-gateway-abc--rev1-5d8f", "gateway-7")]
    [InlineData(null, "ca-gateway-abc--rev1-5d8f", "ca-gateway-abc--rev1-5d8f")]
    [InlineData("", "Replica_01/West Europe", "replica_01-west-europe")]
    [InlineData(null, "--//--", "gateway")]
    [InlineData(null, "a-very-long-container-apps-replica-name-0123456789-abcdefghij", "container-apps-replica-name-0123456789-abcdefghij")]
    public void SubscriptionName_FromConfigurationOrInstance_IsAValidServiceBusName(string? configured, string instance, string expected)
    {
        var name = KeyChangeTopic.SubscriptionName(configured, instance);
        Assert.Equal(expected, name);
        Assert.InRange(name.Length, 1, 50);
    }

    private static async Task<HttpStatusCode> StatusAsync(TestGateway gateway, string key)
    {
        using var response = await gateway.Data.SendAsync(TestGateway.Get("alpha/1", key));
        return response.StatusCode;
    }

    /// <summary>
    /// Calls through every gateway (<see cref="WorkersPerInstance"/> callers each) until each has served the key,
    /// runs <paramref name="change"/>, and keeps calling for <paramref name="after"/> once it returned.
    /// </summary>
    private static async Task<LoadRun> LoadAsync(List<TestGateway> gateways, string key, TimeSpan after, Func<Task> change)
    {
        var calls = new ConcurrentQueue<Call>();
        using var stop = new CancellationTokenSource();
        var workers = Enumerable.Range(0, gateways.Count * WorkersPerInstance).Select(w => Task.Run(async () =>
        {
            var instance = w % gateways.Count;
            while (!stop.IsCancellationRequested)
            {
                var started = Stopwatch.GetTimestamp();
                int status;
                try
                {
                    using var response = await gateways[instance].Data.SendAsync(TestGateway.Get($"alpha/{w}", key));
                    status = (int)response.StatusCode;
                }
                catch (HttpRequestException)
                {
                    status = 0;
                }

                calls.Enqueue(new Call(instance, started, Stopwatch.GetTimestamp(), status));
            }
        })).ToArray();

        var warm = Stopwatch.StartNew();
        while (Enumerable.Range(0, gateways.Count).Any(i => calls.Count(c => c.Instance == i && c.Status == 200) < 20) && warm.Elapsed < Patience)
        {
            await Task.Delay(50);
        }

        await change();
        var answered = Stopwatch.GetTimestamp();
        await Task.Delay(after);
        await stop.CancelAsync();
        await Task.WhenAll(workers);
        return new LoadRun([.. calls], answered, gateways.Count);
    }

    private sealed record Call(int Instance, long Started, long Ended, int Status);

    /// <summary>Every call of a load run, and when the change's response came.</summary>
    private sealed class LoadRun(IReadOnlyList<Call> calls, long answered, int instances)
    {
        private IEnumerable<Call> Of(int instance) => calls.Where(c => c.Instance == instance);

        public void Report(ITestOutputHelper output, string title)
        {
            output.WriteLine($"{title}: {calls.Count} sent, {calls.Count(c => c.Status == 200)} served, {calls.Count(c => c.Started > answered)} started after the change's response");
            for (var i = 0; i < instances; i++)
            {
                var after = Of(i).Where(c => c.Started > answered).ToList();
                // Relative to the change's response: negative when the instance stopped serving before the response came.
                var lastServed = Of(i).Where(c => c.Status == 200).Select(c => (c.Started - answered) * 1000.0 / Stopwatch.Frequency).DefaultIfEmpty(double.NaN).Max();
                var firstRefused = after.Where(c => c.Status == 401).Select(c => Stopwatch.GetElapsedTime(answered, c.Started).TotalMilliseconds).DefaultIfEmpty(double.NaN).Min();
                output.WriteLine(
                    $"  gateway-{i + 1}: {Of(i).Count()} sent, {Of(i).Count(c => c.Status == 200)} served; after the response {after.Count} sent, " +
                    $"{after.Count(c => c.Status == 200)} served; the last 200 started at {lastServed:+0;-0} ms, the first 401 after it at +{firstRefused:0} ms; " +
                    $"statuses {string.Join(", ", Of(i).GroupBy(c => c.Status).OrderBy(g => g.Key).Select(g => $"{g.Key}: {g.Count()}"))}");
            }
        }

        public void AssertNoServerErrors() =>
            Assert.DoesNotContain(calls, c => c.Status is 0 or >= 500);

        public void AssertServedBeforeTheChange(int instance) =>
            Assert.True(Of(instance).Count(c => c.Status == 200 && c.Ended < answered) >= 20, $"gateway-{instance + 1} served the key fewer than 20 times before the change");

        /// <summary>Every call that started more than <paramref name="bound"/> after the change's response was refused so, and there were some.</summary>
        public void AssertRefusedAllStartedAfter(int instance, TimeSpan bound, HttpStatusCode refusal)
        {
            var late = Of(instance).Where(c => Stopwatch.GetElapsedTime(answered, c.Started) > bound).ToList();
            Assert.True(late.Count >= 10, $"gateway-{instance + 1}: only {late.Count} calls started more than {bound.TotalMilliseconds} ms after the change's response");
            var served = late.Where(c => c.Status != (int)refusal).ToList();
            Assert.True(served.Count == 0, $"gateway-{instance + 1}: {served.Count} of {late.Count} calls started more than {bound.TotalMilliseconds} ms after the change's response got {string.Join(", ", served.Select(c => c.Status).Distinct())}, not {(int)refusal}");
        }
    }

    /// <summary>A broker and gateways on one table prefix, each instance with its own subscription <c>gateway-N</c>.</summary>
    private sealed class Cluster : IAsyncDisposable
    {
        private readonly List<MetricCapture> _captures = [];
        private readonly KeyChangeBroadcastTests _test;
        private readonly string _tablePrefix = TestGateway.NewTablePrefix();

        private Cluster(KeyChangeBroadcastTests test) => _test = test;

        public ServiceBusTestBroker? Broker { get; private set; }

        public List<TestGateway> Gateways { get; } = [];

        public static async Task<Cluster> StartAsync(KeyChangeBroadcastTests test, string cacheRefresh, int instances = Instances, int? holdReadsOn = null, string? extraSubscription = null)
        {
            var cluster = new Cluster(test);
            try
            {
                var options = new BrokerOptions { Topics = { "key-changes" } };
                for (var i = 1; i <= instances; i++)
                {
                    options.Subscriptions.Add($"key-changes/gateway-{i}");
                }

                if (extraSubscription is not null)
                {
                    options.Subscriptions.Add($"key-changes/{extraSubscription}");
                }

                cluster.Broker = await ServiceBusTestBroker.StartAsync(options);
                for (var i = 1; i <= instances; i++)
                {
                    var instance = i;
                    var gateway = await TestGateway.StartAsync(
                        test.Azurite,
                        test.Upstream,
                        s =>
                        {
                            s["Gateway:ServiceBus:ConnectionString"] = cluster.Broker.ConnectionString;
                            s["Gateway:ServiceBus:Subscription"] = $"gateway-{instance}";
                            s["Gateway:ServiceBus:PublishTimeout"] = "00:00:01";
                            s["Gateway:Metering:InstanceId"] = $"gateway-{instance}";
                            s["Gateway:Keys:CacheRefresh"] = cacheRefresh;
                        },
                        cluster._tablePrefix,
                        holdReadsOn == instance - 1 ? PausingApiKeyStore.Register : null);
                    cluster.Gateways.Add(gateway);
                    cluster._captures.Add(MetricCapture.Of(gateway));
                }

                return cluster;
            }
            catch
            {
                await cluster.DisposeAsync();
                throw;
            }
        }

        /// <summary>
        /// A key every instance has served, after every instance received a change over Service Bus (a rename of the
        /// key: each subscriber is attached and receiving before the test starts).
        /// </summary>
        public async Task<(string Id, string Key)> IssueWarmKeyAsync()
        {
            var customer = await Gateways[0].CreateCustomerAsync();
            var (id, key) = await Gateways[0].IssueKeyAsync(customer);
            using (var rename = await Gateways[0].Admin.PatchAsJsonAsync($"admin/v1/keys/{id}", new { name = "warm-up" }))
            {
                Assert.Equal(HttpStatusCode.OK, rename.StatusCode);
            }

            for (var i = 0; i < Gateways.Count; i++)
            {
                await WaitReceivedAsync(i, KeyChangeReasons.Renamed, 1);
                Assert.Equal(HttpStatusCode.OK, await StatusAsync(Gateways[i], key));
            }

            return (id, key);
        }

        /// <summary>The function app's container on the same storage and broker (no key cache of its own).</summary>
        public FunctionHost FunctionApp()
        {
            var settings = TestGateway.DefaultSettings(_test.Azurite, _test.Upstream, _tablePrefix);
            settings["Gateway:ServiceBus:ConnectionString"] = Broker!.ConnectionString;
            return new FunctionHost(settings);
        }

        /// <summary>Key changes of <paramref name="reason"/> the instance received over Service Bus and applied.</summary>
        public int Received(int instance, string reason) =>
            (int)_captures[instance].Of(TelemetryNames.KeyChangesReceived).Where(m => m.Tag(TelemetryNames.KeyChangeReasonTag) == reason).Sum(m => m.Value);

        public async Task WaitReceivedAsync(int instance, string reason, int count)
        {
            var waited = Stopwatch.StartNew();
            while (Received(instance, reason) < count)
            {
                Assert.True(waited.Elapsed < Patience, $"gateway-{instance + 1} received {Received(instance, reason)} '{reason}' changes, not {count}, within {Patience}");
                await Task.Delay(10);
            }
        }

        public async Task StopBrokerAsync()
        {
            if (Broker is { } broker)
            {
                Broker = null;
                await broker.DisposeAsync();
            }
        }

        public async ValueTask DisposeAsync()
        {
            foreach (var capture in _captures)
            {
                capture.Dispose();
            }

            foreach (var gateway in Gateways)
            {
                await gateway.DisposeAsync();
            }

            await StopBrokerAsync();
        }
    }
}
