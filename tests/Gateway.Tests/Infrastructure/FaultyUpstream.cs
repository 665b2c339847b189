using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Gateway.Tests.Infrastructure;

/// <summary>
/// A real Kestrel upstream that fails the way real ones do, chosen by the first path segment after the route's:
/// <list type="bullet">
/// <item><c>hang</c>: takes the request and never answers (until the gateway gives up and aborts it).</item>
/// <item><c>stall</c>: sends status and headers, then never sends the body.</item>
/// <item><c>break</c>: sends status, headers and part of the body, waits for <see cref="Release"/>, then drops the connection.</item>
/// <item><c>hold</c>: takes the request, waits for <see cref="Release"/>, then drops the connection without answering.</item>
/// </list>
/// <see cref="Received"/> completes when a request has arrived, so tests wait for events instead of sleeping.
/// </summary>
public sealed class FaultyUpstream : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource _received = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private FaultyUpstream(WebApplication app, int port)
    {
        _app = app;
        Address = $"http://127.0.0.1:{port}/";
    }

    public string Address { get; }

    /// <summary>Completes when the next request reaches the upstream.</summary>
    public Task Received => _received.Task;

    /// <summary>Lets requests held by <c>break</c> and <c>hold</c> go on (to be dropped).</summary>
    public void Release() => _release.TrySetResult();

    public static async Task<FaultyUpstream> StartAsync()
    {
        var port = FreePort.Take(1)[0];
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.Logging.ClearProviders();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(1));
        var app = builder.Build();
        var upstream = new FaultyUpstream(app, port);
        app.Run(upstream.AnswerAsync);
        await app.StartAsync();
        return upstream;
    }

    private async Task AnswerAsync(HttpContext context)
    {
        var received = Interlocked.Exchange(ref _received, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        received.TrySetResult();
        var segments = context.Request.Path.Value!.Split('/', StringSplitOptions.RemoveEmptyEntries);
        var aborted = context.RequestAborted;
        switch (segments.ElementAtOrDefault(1))
        {
            case "hang":
                await WaitUntilAbortedAsync(aborted);
                break;
            case "stall":
                context.Response.ContentType = "application/json";
                await context.Response.StartAsync(aborted);
                await context.Response.Body.FlushAsync(aborted);
                await WaitUntilAbortedAsync(aborted);
                break;
            case "break":
                context.Response.ContentType = "application/json";
                context.Response.ContentLength = 1000;
                await context.Response.WriteAsync("{\"data\":[1,2,3,", aborted);
                await context.Response.Body.FlushAsync(aborted);
                await _release.Task.WaitAsync(aborted);
                context.Abort();
                break;
            case "hold":
                await _release.Task.WaitAsync(aborted);
                context.Abort();
                break;
            default:
                context.Response.StatusCode = 404;
                break;
        }
    }

    private static async Task WaitUntilAbortedAsync(CancellationToken aborted)
    {
        try
        {
            await Task.Delay(Timeout.Infinite, aborted);
        }
        catch (OperationCanceledException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        _release.TrySetResult();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
