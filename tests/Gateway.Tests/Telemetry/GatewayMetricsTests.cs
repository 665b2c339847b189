using System.Globalization;
using System.Net;
using Azure.Data.Tables;
using Gateway.Core.Storage;
using Gateway.Proxy.Metering;
using Gateway.Proxy.Telemetry;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using static Gateway.Proxy.Telemetry.TelemetryNames;

namespace Gateway.Tests.Telemetry;

/// <summary>The gateway's instruments, observed with a <see cref="System.Diagnostics.Metrics.MeterListener"/> as an exporter would.</summary>
[Collection(UsesAzurite.Name)]
public sealed class GatewayMetricsTests(Azurite azurite) : GatewayTest(azurite)
{
    private const string NoFlushInterval = "00:05:00";

    [Fact]
    public async Task Calls_AsUsageCountsThem_AreMeasuredByPlanRouteGroupAndOutcome()
    {
        await using var gateway = await StartGatewayAsync();
        using var metrics = MetricCapture.Of(gateway);
        var customer = await gateway.CreateCustomerAsync();
        var (_, open) = await gateway.IssueKeyAsync(customer);
        var (_, narrow) = await gateway.IssueKeyAsync(customer, "narrow");

        Assert.Equal(HttpStatusCode.OK, await SendAsync(gateway, "alpha/1", open));
        Assert.Equal(HttpStatusCode.NotFound, await SendAsync(gateway, "gamma/status/404", open));
        Assert.Equal(HttpStatusCode.Forbidden, await SendAsync(gateway, "beta/1", narrow));
        Assert.Equal(HttpStatusCode.Unauthorized, await SendAsync(gateway, "alpha/1", key: null));

        var calls = await metrics.WaitForAsync(Calls, m => m.Count >= 3);
        Assert.Equal(
            [("narrow", "beta", "rejected-route-not-in-plan"), ("open", "alpha", "2xx"), ("open", "gamma", "4xx")],
            calls.Select(c => (c.Tag(PlanTag), c.Tag(RouteGroupTag), c.Tag(OutcomeTag))).Order());
        Assert.All(calls, c => Assert.Equal(1, c.Value));
    }

    [Fact]
    public async Task KeyCache_FirstCallReadsStorage_LaterCallsAreHits()
    {
        await using var gateway = await StartGatewayAsync();
        using var metrics = MetricCapture.Of(gateway);
        var (_, key) = await gateway.IssueKeyAsync(await gateway.CreateCustomerAsync());

        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(HttpStatusCode.OK, await SendAsync(gateway, "alpha/1", key));
        }

        Assert.Equal([Hit, Hit, Miss], metrics.Of(KeyCacheLookups).Select(m => m.Tag(KeyCacheResultTag)).Order());
    }

    [Fact]
    public async Task AdmissionDuration_IsRecordedForEachAdmittedCall()
    {
        await using var gateway = await StartGatewayAsync();
        using var metrics = MetricCapture.Of(gateway);
        var customer = await gateway.CreateCustomerAsync();
        var (_, key) = await gateway.IssueKeyAsync(customer);
        var (_, narrow) = await gateway.IssueKeyAsync(customer, "narrow");

        await SendAsync(gateway, "alpha/1", key);
        await SendAsync(gateway, "alpha/2", key);
        await SendAsync(gateway, "beta/1", narrow);

        var durations = metrics.Of(AdmissionDuration);
        Assert.Equal(2, durations.Count);
        Assert.All(durations, d => Assert.InRange(d.Value, 0, 10));
    }

    [Fact]
    public async Task UpstreamLatency_OfAForwardedCall_IsMeasuredByTheRuntimeHttpClientMeter()
    {
        await using var gateway = await StartGatewayAsync();
        using var http = MetricCapture.OfMeter("System.Net.Http");
        var (_, key) = await gateway.IssueKeyAsync(await gateway.CreateCustomerAsync());
        var upstreamPort = new Uri(Upstream.Address).Port.ToString(CultureInfo.InvariantCulture);

        Assert.Equal(HttpStatusCode.OK, await SendAsync(gateway, "alpha/1", key));

        var measured = await http.WaitForAsync("http.client.request.duration", m => m.Any(x => x.Tag("server.port") == upstreamPort));
        var upstream = Assert.Single(measured, m => m.Tag("server.port") == upstreamPort);
        Assert.Equal("200", upstream.Tag("http.response.status_code"));
        Assert.InRange(upstream.Value, 0, 10);
    }

    [Fact]
    public async Task Flush_OfCountedCalls_RecordsItsDurationAndTheRowsWritten()
    {
        await using var gateway = await StartGatewayAsync(s => s["Gateway:Metering:FlushInterval"] = NoFlushInterval);
        var (_, key) = await gateway.IssueKeyAsync(await gateway.CreateCustomerAsync());
        await SendAsync(gateway, "alpha/1", key);
        using var metrics = MetricCapture.Of(gateway);

        var result = await gateway.Services.GetRequiredService<UsageFlushService>().FlushAsync(CancellationToken.None);

        Assert.Equal(2, result.Rows);
        Assert.Equal(Complete, Assert.Single(metrics.Of(FlushDuration)).Tag(FlushResultTag));
        Assert.Equal(2, metrics.Of(RowsWritten).Sum(m => m.Value));
        Assert.Empty(metrics.Of(FlushFailures));
    }

    [Fact]
    public async Task Flush_WithTheUsageTableGone_CountsTheFailedBatches()
    {
        await using var gateway = await StartGatewayAsync(s => s["Gateway:Metering:FlushInterval"] = NoFlushInterval);
        var (_, key) = await gateway.IssueKeyAsync(await gateway.CreateCustomerAsync());
        await SendAsync(gateway, "alpha/1", key);
        using var metrics = MetricCapture.Of(gateway);
        var usage = new TableClient(Azurite.ConnectionString, gateway.TablePrefix + TableNames.Usage);
        await usage.DeleteAsync();

        var result = await gateway.Services.GetRequiredService<UsageFlushService>().FlushAsync(CancellationToken.None);
        await usage.CreateIfNotExistsAsync();

        Assert.True(result.FailedBatches > 0);
        Assert.Equal(result.FailedBatches, metrics.Of(FlushFailures).Sum(m => m.Value));
        Assert.Equal(Incomplete, Assert.Single(metrics.Of(FlushDuration)).Tag(FlushResultTag));
        Assert.Equal(2, Assert.Single(metrics.Observe(DirtyCells)).Value);
    }

    [Fact]
    public async Task OldestUnflushedAge_WhileStorageIsFrozen_GrowsAndFallsBackOnceFlushed()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var gateway = await StartGatewayAsync(services: s => s.AddSingleton<TimeProvider>(time));
        var flusher = gateway.Services.GetRequiredService<UsageFlushService>();
        using var metrics = MetricCapture.Of(gateway);
        var (_, key) = await gateway.IssueKeyAsync(await gateway.CreateCustomerAsync());
        await SendAsync(gateway, "alpha/1", key);
        await metrics.WaitForAsync(Calls, m => m.Count == 1);
        Assert.Equal(0, Assert.Single(metrics.Observe(OldestUnflushedAge)).Value);

        double during, later, dirty;
        Azurite.Freeze();
        try
        {
            // The flush the timer starts now hangs on frozen storage; the counts wait in memory.
            time.Advance(TimeSpan.FromSeconds(3));
            during = Assert.Single(metrics.Observe(OldestUnflushedAge)).Value;
            time.Advance(TimeSpan.FromSeconds(4));
            later = Assert.Single(metrics.Observe(OldestUnflushedAge)).Value;
            dirty = Assert.Single(metrics.Observe(DirtyCells)).Value;
        }
        finally
        {
            Azurite.Thaw();
        }

        Assert.Equal(3, during, tolerance: 0.001);
        Assert.Equal(7, later, tolerance: 0.001);
        Assert.Equal(2, dirty);
        Assert.True((await flusher.FlushAsync(CancellationToken.None)).Complete);
        Assert.Equal(0, Assert.Single(metrics.Observe(OldestUnflushedAge)).Value);
        Assert.Equal(0, Assert.Single(metrics.Observe(DirtyCells)).Value);
    }

    [Fact]
    public async Task StorageRequests_AreObservedFromTheTableRequestCounter()
    {
        await using var gateway = await StartGatewayAsync();
        using var metrics = MetricCapture.Of(gateway);
        await gateway.CreateCustomerAsync();

        var observed = Assert.Single(metrics.Observe(StorageRequests)).Value;

        var counted = gateway.Services.GetRequiredService<TableRequestCounter>().Requests;
        Assert.InRange(observed, 1, counted);
    }

    [Fact]
    public async Task Telemetry_WithoutAnExporterConfigured_RegistersNoOpenTelemetry()
    {
        await using var gateway = await StartGatewayAsync();

        Assert.Null(gateway.Services.GetService<MeterProvider>());
        Assert.Null(gateway.Services.GetService<TracerProvider>());
        Assert.False(gateway.Services.GetRequiredService<GatewayMetrics>().CallCounter.Enabled);
    }

    [Fact]
    public async Task Telemetry_WithAnOtlpEndpoint_ExportsTheGatewayMeterAndSpans()
    {
        await using var gateway = await StartGatewayAsync(s => s[GatewayTelemetry.OtlpEndpoint] = $"http://127.0.0.1:{FreePort.Take(1)[0]}");

        Assert.NotNull(gateway.Services.GetService<MeterProvider>());
        Assert.NotNull(gateway.Services.GetService<TracerProvider>());
        Assert.True(gateway.Services.GetRequiredService<GatewayMetrics>().CallCounter.Enabled);
    }

    private static async Task<HttpStatusCode> SendAsync(TestGateway gateway, string path, string? key)
    {
        using var response = await gateway.Data.SendAsync(TestGateway.Get(path, key));
        return response.StatusCode;
    }
}
