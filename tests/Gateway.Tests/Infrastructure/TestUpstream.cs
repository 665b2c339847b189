using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gateway.Tests.Infrastructure;

/// <summary>A request as the upstream received it.</summary>
public sealed record ReceivedRequest(string Method, string Path, IReadOnlyDictionary<string, string[]> Headers)
{
    /// <summary>The request target exactly as it came over the wire: path and query, still percent-encoded.</summary>
    public string RawTarget { get; init; } = "";
}

/// <summary>
/// A real Kestrel server standing in for the customer's API. It records what reaches it and answers 200 with a
/// small JSON body, or the status in the path for <c>/status/{code}</c>.
/// </summary>
public sealed class TestUpstream : IAsyncDisposable
{
    private readonly WebApplication _app;

    private TestUpstream(WebApplication app) => _app = app;

    /// <summary>The address Kestrel bound (port 0: the kernel picks a free port, so nothing can take it first).</summary>
    public string Address { get; private set; } = "";

    public ConcurrentQueue<ReceivedRequest> Received { get; } = new();

    public static async Task<TestUpstream> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var upstream = new TestUpstream(app);
        app.Run(async context =>
        {
            upstream.Received.Enqueue(new ReceivedRequest(
                context.Request.Method,
                context.Request.Path + context.Request.QueryString,
                context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.Select(v => v ?? "").ToArray(), StringComparer.OrdinalIgnoreCase))
            {
                RawTarget = context.Features.GetRequiredFeature<IHttpRequestFeature>().RawTarget,
            });
            var segments = context.Request.Path.Value!.Split('/', StringSplitOptions.RemoveEmptyEntries);
            context.Response.StatusCode = segments.Length >= 2 && segments[^2] == "status" && int.TryParse(segments[^1], out var code) ? code : 200;
            await context.Response.WriteAsJsonAsync(new { path = context.Request.Path.Value, id = segments.LastOrDefault() });
        });
        await app.StartAsync();
        upstream.Address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single() + "/";
        return upstream;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
