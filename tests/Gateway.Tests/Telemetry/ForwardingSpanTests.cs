using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using Gateway.Proxy.Telemetry;
using Gateway.Tests.Infrastructure;
using static Gateway.Proxy.Telemetry.TelemetryNames;

namespace Gateway.Tests.Telemetry;

/// <summary>The gateway's span around forwarding, seen by an <see cref="ActivityListener"/> as a tracer would see it.</summary>
[Collection(UsesAzurite.Name)]
public sealed class ForwardingSpanTests(Azurite azurite) : SharedGatewayTest(azurite)
{
    protected override void Settings(Dictionary<string, string?> settings)
    {
        // gamma goes to a port nobody listens on.
        settings["ReverseProxy:Routes:gamma:ClusterId"] = "down";
        settings["ReverseProxy:Clusters:down:Destinations:d1:Address"] = $"http://127.0.0.1:{FreePort.Take(1)[0]}/";
    }

    [Fact]
    public async Task ForwardingSpan_OfAnAdmittedCall_CarriesKeyIdAndPlan_AndParentsTheUpstreamRequest()
    {
        var customer = await Gateway.CreateCustomerAsync();
        var (keyId, key) = await Gateway.IssueKeyAsync(customer);
        using var spans = new SpanCapture();

        using var response = await Gateway.Data.SendAsync(TestGateway.Get("alpha/1", key));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var span = await spans.WaitForForwardingAsync(keyId);
        Assert.Equal(Source, span.Source.Name);
        Assert.Equal(customer, span.GetTagItem(CustomerIdTag));
        Assert.Equal("open", span.GetTagItem(PlanTag));
        Assert.Equal("alpha", span.GetTagItem(RouteGroupTag));
        Assert.Equal("2xx", span.GetTagItem(OutcomeTag));
        var traceParent = Assert.Single(Assert.Single(Upstream.Received).Headers["traceparent"]);
        Assert.Contains(span.TraceId.ToHexString(), traceParent, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ForwardingSpan_OfACallTheUpstreamNeverAnswered_EndsAsAnError()
    {
        var (keyId, key) = await Gateway.IssueKeyAsync(await Gateway.CreateCustomerAsync());
        using var spans = new SpanCapture();

        using var response = await Gateway.Data.SendAsync(TestGateway.Get("gamma/1", key));

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        var span = await spans.WaitForForwardingAsync(keyId);
        Assert.Equal("gateway-error", span.GetTagItem(OutcomeTag));
        Assert.Equal(ActivityStatusCode.Error, span.Status);
    }

    [Fact]
    public async Task Spans_OfACall_NeverCarryThePlaintextKey()
    {
        var (keyId, key) = await Gateway.IssueKeyAsync(await Gateway.CreateCustomerAsync());
        using var spans = new SpanCapture();

        using var response = await Gateway.Data.SendAsync(TestGateway.Get("alpha/1?api_key=" + key, key));

        await spans.WaitForForwardingAsync(keyId);
        Assert.Equal(keyId, spans.All.Single(s => s.OperationName == ForwardSpan).GetTagItem(KeyIdTag));
        var texts = spans.All.SelectMany(s => s.TagObjects.Select(t => t.Value?.ToString()).Append(s.DisplayName).Append(s.StatusDescription));
        Assert.DoesNotContain(texts, t => t is not null && t.Contains(key, StringComparison.Ordinal));
        Assert.True(spans.All.Count > 1, "only the gateway's span was seen; the check above needs the framework's spans too");
    }

    [Fact]
    public async Task RefusedCall_HasNoForwardingSpan()
    {
        var (keyId, key) = await Gateway.IssueKeyAsync(await Gateway.CreateCustomerAsync(), "narrow");
        using var spans = new SpanCapture();

        using var response = await Gateway.Data.SendAsync(TestGateway.Get("beta/1", key));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.DoesNotContain(spans.All, s => s.OperationName == ForwardSpan);
    }

    /// <summary>Listens to every activity source, recording everything, and keeps the spans that ended.</summary>
    private sealed class SpanCapture : IDisposable
    {
        private readonly ConcurrentQueue<Activity> _stopped = new();
        private readonly ActivityListener _listener;

        public SpanCapture()
        {
            _listener = new ActivityListener
            {
                ShouldListenTo = _ => true,
                Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
                ActivityStopped = _stopped.Enqueue,
            };
            ActivitySource.AddActivityListener(_listener);
        }

        public IReadOnlyList<Activity> All => [.. _stopped];

        public async Task<Activity> WaitForForwardingAsync(string keyId)
        {
            var deadline = DateTime.UtcNow.AddSeconds(10);
            while (DateTime.UtcNow < deadline)
            {
                if (_stopped.FirstOrDefault(s => s.OperationName == ForwardSpan && Equals(s.GetTagItem(KeyIdTag), keyId)) is { } span)
                {
                    return span;
                }

                await Task.Delay(20);
            }

            throw new TimeoutException($"No {ForwardSpan} span for key {keyId} ended within 10 s.");
        }

        public void Dispose() => _listener.Dispose();
    }
}
