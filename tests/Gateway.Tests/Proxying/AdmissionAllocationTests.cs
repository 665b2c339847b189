using System.Diagnostics.Metrics;
using System.Net;
using System.Text;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
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
using Gateway.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;

namespace Gateway.Tests.Proxying;

/// <summary>
/// The data plane's step for a key already in memory, with the instruments and the forwarding span in place but
/// nobody listening (no exporter): synchronous, and not one byte allocated. In the Azurite collection only so that no
/// other test's listener is attached while it measures.
/// </summary>
[Collection(UsesAzurite.Name)]
public sealed class AdmissionAllocationTests
{
    private const string RouteGroup = "alpha";

    [Fact]
    public async Task Admission_OfACachedKeyWithNoListener_IsSynchronousAndAllocatesNothing()
    {
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var admission = await CachedKeyAdmissionAsync(services.GetRequiredService<IMeterFactory>());
        var context = admission.Context;
        for (var i = 0; i < 1_000; i++)
        {
            Assert.True(admission.Middleware.InvokeAsync(context).IsCompletedSuccessfully);
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        var synchronous = true;
        for (var i = 0; i < 10_000; i++)
        {
            synchronous &= admission.Middleware.InvokeAsync(context).IsCompletedSuccessfully;
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(synchronous);
        Assert.Equal(200, context.Response.StatusCode);
        Assert.Equal(0, allocated);
    }

    [Fact]
    public async Task Admission_OfACachedKeyOnARecordsRoute_ReadsEveryIdOfA2KBJsonBody_AndAllocatesAtMost256BytesPerCall()
    {
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var admission = await CachedKeyAdmissionAsync(services.GetRequiredService<IMeterFactory>(), recordIdPath: "$.data[*].id");
        var context = admission.Context;
        for (var i = 0; i < 1_000; i++)
        {
            Assert.True(admission.Middleware.InvokeAsync(context).IsCompletedSuccessfully);
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 10_000; i++)
        {
            await admission.Middleware.InvokeAsync(context);
        }

        var perCall = (GC.GetAllocatedBytesForCurrentThread() - before) / 10_000.0;
        Assert.True(perCall <= 256, $"{perCall} bytes per call");
        Assert.Equal(11_000 * 40, admission.Evidence.RecordsToday(admission.KeyId));
    }

    private static async Task<(AdmissionMiddleware Middleware, DefaultHttpContext Context, Gateway.Compliance.EvidenceRecorder Evidence, string KeyId)> CachedKeyAdmissionAsync(IMeterFactory meters, string? recordIdPath = null)
    {
        var options = Options.Create(new GatewayOptions
        {
            Storage = { ConnectionString = "UseDevelopmentStorage=true" },
            Plans = { ["open"] = new PlanOptions { RequestsPerSecond = 1e9, Burst = 4_000, MonthlyQuota = long.MaxValue / 2, RouteGroups = [RouteGroup] } },
        });
        var time = TimeProvider.System;
        var tables = new GatewayTables(options, new TableClientOptions { Transport = new HttpClientTransport(new HttpClient(new EmptyTableStorage())) });
        var ledger = new QuotaLedger();
        var recorder = new UsageRecorder(options, time);
        var format = new ApiKeyFormat(options.Value.Keys.Environment);
        var (key, keyId) = format.Generate();
        var record = new ApiKeyRecord(keyId, "c_alloc", "open", ApiKeyStatus.Active, ApiKeyHash.Compute(key), format.Prefix + keyId, time.GetUtcNow(), null);
        var callers = new ApiCallerFactory(new PlanCatalog(options), new RateLimits(time), new QuotaBaselines(ledger, new UsageTable(tables), recorder, time), RecordCapsOf(new PlanCatalog(options), tables, time), new Gateway.Core.Customers.SpendCaps(tables), options, time, NullLogger<ApiCallerFactory>.Instance);
        var verifier = new ApiKeyVerifier(options, new OneKeyStore(record), callers, time, NullLogger<ApiKeyVerifier>.Instance);
        var metrics = new GatewayMetrics(meters, new UsageFlushStatus([recorder, ledger], time), new TableRequestCounter(), time);

        var context = new DefaultHttpContext();
        context.Request.Headers[ApiKeyCredentials.ApiKeyHeader] = key;

        // Compliance evidence records the client network and a hash of the user agent of every call: neither allocates.
        context.Request.Headers.UserAgent = "allocation-test/1.0 (+https://example.test)";
        context.Connection.RemoteIpAddress = System.Net.IPAddress.Parse("203.0.113.9");
        var route = new RouteConfig { RouteId = RouteGroup, ClusterId = "c", Metadata = new Dictionary<string, string> { [RouteGroups.MetadataKey] = RouteGroup } };
        context.Features.Set<IReverseProxyFeature>(new ProxyFeature(new RouteModel(route, null, HttpTransformer.Empty)));

        // The key's first sight reads storage; afterwards it is served from memory.
        await verifier.VerifyAsync(context.Request.Headers, CancellationToken.None);
        var compliance = new Gateway.Compliance.ComplianceOptions();
        if (recordIdPath is not null)
        {
            compliance.Routes[RouteGroup] = new Gateway.Compliance.RouteComplianceOptions { RecordIdPath = recordIdPath };
        }

        var evidence = new Gateway.Compliance.EvidenceRecorder(new Gateway.Compliance.EvidenceTable(new Gateway.Compliance.ComplianceTables(tables)), new Gateway.Compliance.RecordTable(new Gateway.Compliance.ComplianceTables(tables)), Options.Create(new Gateway.Compliance.ComplianceOptions()), time);
        // The upstream's answer as YARP copies it: status, content type, then a ~2 KB JSON page in three chunks.
        var page = Encoding.UTF8.GetBytes(Gateway.Tests.Compliance.RecordIdReaderTests.TypicalBody(40));
        RequestDelegate upstream = recordIdPath is null ? _ => Task.CompletedTask : c =>
        {
            c.Response.StatusCode = 200;
            c.Response.ContentType = "application/json; charset=utf-8";
            c.Response.Body.Write(page.AsSpan(0, 700));
            c.Response.Body.Write(page.AsSpan(700, 701));
            c.Response.Body.Write(page.AsSpan(1_401));
            return Task.CompletedTask;
        };
        var middleware = new AdmissionMiddleware(upstream, verifier, ledger, recorder, evidence, new Gateway.Proxy.Compliance.RecordCaptures(new Gateway.Compliance.RecordRoutes(Options.Create(compliance)), evidence, new Gateway.Compliance.CanaryBook(Options.Create(compliance), new Gateway.Compliance.CanaryTable(new Gateway.Compliance.ComplianceTables(tables)), time), NullLogger<Gateway.Proxy.Compliance.RecordCaptureStream>.Instance), metrics, time, NullLogger<AdmissionMiddleware>.Instance);
        return (middleware, context, evidence, keyId);
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
        public Task<ApiKeyRecord?> FindAsync(string keyId, CancellationToken cancellationToken) => Task.FromResult(keyId == record.Id ? record : null);

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
            Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent("""{"value":[]}""", Encoding.UTF8, "application/json") });
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
