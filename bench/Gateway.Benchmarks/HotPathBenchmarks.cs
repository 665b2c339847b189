using System.Diagnostics;
using System.Net;
using System.Text;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using BenchmarkDotNet.Attributes;
using Gateway.Core;
using Gateway.Core.Keys;
using Gateway.Core.Plans;
using Gateway.Core.Storage;
using Gateway.Core.Usage;
using Gateway.Proxy.Keys;
using Gateway.Proxy.Metering;
using Gateway.Proxy.Proxying;
using Gateway.Proxy.Quotas;
using Gateway.Proxy.RateLimiting;
using Gateway.Proxy.Telemetry;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;

namespace Gateway.Benchmarks;

/// <summary>
/// The data plane's per-request steps, one benchmark each, on a key that is already in memory (the steady state:
/// a key's first request hashes it and reads storage once). Storage is a canned in-memory transport, never called
/// on these paths. Targets: ≤ 1 µs and 0 B allocated per operation.
/// </summary>
[MemoryDiagnoser]
public class HotPathBenchmarks
{
    private const string RouteGroup = "posts";

    private readonly HeaderDictionary _headers = [];
    private readonly DefaultHttpContext _context = new();
    private readonly Task _completed = Task.CompletedTask;
    private ApiKeyVerifier _verifier = null!;
    private UsageRecorder _recorder = null!;
    private AdmissionMiddleware _admission = null!;
    private AdmissionMiddleware _admissionAsyncNext = null!;
    private TaskCompletionSource _upstream = null!;
    private TokenBucket _bucket = null!;
    private QuotaPeriod _period = null!;
    private Plan _billPlan = null!;
    private Plan _blockPlan = null!;
    private string _customerId = null!;
    private string _keyId = null!;

    [GlobalSetup]
    public void Setup()
    {
        var options = Options.Create(new GatewayOptions
        {
            Storage = { ConnectionString = "UseDevelopmentStorage=true" },
            Plans =
            {
                ["enterprise"] = new PlanOptions { RequestsPerSecond = 1e9, Burst = 4000, MonthlyQuota = long.MaxValue / 2, OverQuota = nameof(OverQuotaBehaviour.Bill), RouteGroups = [RouteGroup] },
                ["basic"] = new PlanOptions { RequestsPerSecond = 1e9, Burst = 4000, MonthlyQuota = long.MaxValue / 2, OverQuota = nameof(OverQuotaBehaviour.Block), RouteGroups = [RouteGroup] },
            },
        });
        var time = TimeProvider.System;
        var plans = new PlanCatalog(options);
        plans.TryGet("enterprise", out _billPlan);
        plans.TryGet("basic", out _blockPlan);
        var tables = new GatewayTables(options, new TableClientOptions { Transport = new HttpClientTransport(new HttpClient(new EmptyTableStorage())) });
        var ledger = new QuotaLedger();
        _recorder = new UsageRecorder(options, time);

        var format = new ApiKeyFormat(options.Value.Keys.Environment);
        var (key, keyId) = format.Generate();
        _keyId = keyId;
        _customerId = "c_bench";
        var record = new ApiKeyRecord(keyId, _customerId, "enterprise", ApiKeyStatus.Active, ApiKeyHash.Compute(key), format.Prefix + keyId, time.GetUtcNow(), null);
        var callers = new ApiCallerFactory(plans, new RateLimits(time), new QuotaBaselines(ledger, new UsageTable(tables), _recorder, time), RecordCapsOf(plans, tables, time), new Gateway.Core.Customers.SpendCaps(tables), options, time, NullLogger<ApiCallerFactory>.Instance);
        _verifier = new ApiKeyVerifier(options, new OneKeyStore(record), callers, time, NullLogger<ApiKeyVerifier>.Instance);
        _headers[ApiKeyCredentials.ApiKeyHeader] = key;

        // The key's first sight: hash and storage read, outside the measurement.
        var first = _verifier.VerifyAsync(_headers, CancellationToken.None).AsTask().GetAwaiter().GetResult();
        if (!first.IsVerified)
        {
            throw new InvalidOperationException($"Setup: the key did not verify ({first.Rejection}).");
        }

        _bucket = new TokenBucket(1e9, 4000, Stopwatch.GetTimestamp(), Stopwatch.Frequency);
        _period = new QuotaPeriod(_customerId, keyId, UsageCalendar.MonthOf(time.GetUtcNow()));

        _context.Request.Headers[ApiKeyCredentials.ApiKeyHeader] = key;
        var route = new RouteConfig { RouteId = RouteGroup, ClusterId = "social", Metadata = new Dictionary<string, string> { [RouteGroups.MetadataKey] = RouteGroup } };
        _context.Features.Set<IReverseProxyFeature>(new ProxyFeature(new RouteModel(route, null, HttpTransformer.Empty)));
        // The instruments as in production without an exporter: defined, nobody listening.
        var metrics = new GatewayMetrics(new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), new UsageFlushStatus([_recorder, ledger], time), new TableRequestCounter(), time);
        var evidence = new Gateway.Compliance.EvidenceRecorder(new Gateway.Compliance.EvidenceTable(new Gateway.Compliance.ComplianceTables(tables)), new Gateway.Compliance.RecordTable(new Gateway.Compliance.ComplianceTables(tables)), Options.Create(new Gateway.Compliance.ComplianceOptions()), time);
        _admission = new AdmissionMiddleware(_ => _completed, _verifier, ledger, _recorder, evidence, new Gateway.Proxy.Compliance.RecordCaptures(new Gateway.Compliance.RecordRoutes(Options.Create(new Gateway.Compliance.ComplianceOptions())), evidence, new Gateway.Compliance.CanaryBook(Options.Create(new Gateway.Compliance.ComplianceOptions()), new Gateway.Compliance.CanaryTable(new Gateway.Compliance.ComplianceTables(tables)), time), NullLogger<Gateway.Proxy.Compliance.RecordCaptureStream>.Instance), metrics, time, NullLogger<AdmissionMiddleware>.Instance);
        _admissionAsyncNext = new AdmissionMiddleware(_ => _upstream.Task, _verifier, ledger, _recorder, evidence, new Gateway.Proxy.Compliance.RecordCaptures(new Gateway.Compliance.RecordRoutes(Options.Create(new Gateway.Compliance.ComplianceOptions())), evidence, new Gateway.Compliance.CanaryBook(Options.Create(new Gateway.Compliance.ComplianceOptions()), new Gateway.Compliance.CanaryTable(new Gateway.Compliance.ComplianceTables(tables)), time), NullLogger<Gateway.Proxy.Compliance.RecordCaptureStream>.Instance), metrics, time, NullLogger<AdmissionMiddleware>.Instance);
    }

    [Benchmark(Description = "Key parse + verify, cache hit")]
    public bool VerifyKey()
    {
        var verification = _verifier.VerifyAsync(_headers, CancellationToken.None);
        return verification.IsCompletedSuccessfully ? verification.Result.IsVerified : throw new InvalidOperationException("not synchronous");
    }

    [Benchmark(Description = "Rate limit: TokenBucket.TryTake")]
    public bool RateLimit() => _bucket.TryTake(Stopwatch.GetTimestamp()).Allowed;

    [Benchmark(Description = "Quota: TryAdmit (bill plan)")]
    public QuotaDecision QuotaBill() => _period.TryAdmit(_billPlan);

    [Benchmark(Description = "Quota: TryAdmit (block plan)")]
    public QuotaDecision QuotaBlock() => _period.TryAdmit(_blockPlan);

    [Benchmark(Description = "Metering: UsageRecorder.Record")]
    public void Meter() => _recorder.Record(_customerId, _keyId, RouteGroup, CallOutcome.Status2xx);

    [Benchmark(Description = "Licence: Plan.Covers")]
    public bool Licence() => _billPlan.Covers(RouteGroup);

    [Benchmark(Description = "Admission step, upstream completes synchronously")]
    public Task Admission() => _admission.InvokeAsync(_context);

    /// <summary>The real shape: forwarding completes later. Subtract <see cref="AsyncNextBaseline"/> for the step's own cost.</summary>
    [Benchmark(Description = "Admission step, upstream completes later")]
    public void AdmissionAsyncNext()
    {
        _upstream = new TaskCompletionSource();
        var admitted = _admission == null ? Task.CompletedTask : _admissionAsyncNext.InvokeAsync(_context);
        _upstream.SetResult();
        admitted.GetAwaiter().GetResult();
    }

    [Benchmark(Description = "Baseline for the above: the pending upstream task alone")]
    public void AsyncNextBaseline()
    {
        _upstream = new TaskCompletionSource();
        _upstream.SetResult();
        _upstream.Task.GetAwaiter().GetResult();
    }

    /// <summary>No route counts records here, so the caps read nothing.</summary>
    private static Gateway.Proxy.Compliance.DailyRecordCaps RecordCapsOf(PlanCatalog plans, GatewayTables tables, TimeProvider time)
    {
        var compliance = Options.Create(new Gateway.Compliance.ComplianceOptions());
        var catalog = new Gateway.Compliance.LicenceCatalog(plans, compliance);
        return new(new Gateway.Compliance.RecordRoutes(compliance), new Gateway.Compliance.KeyLicences(catalog, new Gateway.Compliance.ComplianceTables(tables), time), catalog);
    }

    private sealed class OneKeyStore(ApiKeyRecord record) : IApiKeyStore
    {
        public Task<ApiKeyRecord?> FindAsync(string keyId, CancellationToken cancellationToken) =>
            Task.FromResult(keyId == record.Id ? record : null);

        public Task AddAsync(ApiKeyRecord key, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<IReadOnlyList<ApiKeyRecord>> ListByCustomerAsync(string customerId, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<ApiKeyRecord?> SetStatusAsync(string keyId, ApiKeyStatus status, DateTimeOffset at, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<ApiKeyRecord?> ChangeAsync(string keyId, Func<ApiKeyRecord, ApiKeyRecord?> change, CancellationToken cancellationToken) => throw new NotSupportedException();

        public IAsyncEnumerable<ApiKeyRecord> ListLapsedAsync(DateTimeOffset until, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task AddManyAsync(IReadOnlyList<ApiKeyRecord> keys, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<KeyPage> ListPageByCustomerAsync(string customerId, string? afterKeyId, int pageSize, CancellationToken cancellationToken) => throw new NotSupportedException();
    }

    /// <summary>Answers every Table Storage request with an empty result set (the quota baseline read at first sight).</summary>
    private sealed class EmptyTableStorage : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK)
            {
                Content = new StringContent("""{"value":[]}""", Encoding.UTF8, "application/json"),
            });
    }

    private sealed class ProxyFeature(RouteModel route) : IReverseProxyFeature
    {
        public RouteModel Route { get; } = route;

        public ClusterModel Cluster { get; set; } = null!;

        public IReadOnlyList<DestinationState> AllDestinations => [];

        public IReadOnlyList<DestinationState> AvailableDestinations { get; set; } = [];

        public DestinationState? ProxiedDestination { get; set; }
    }
}
