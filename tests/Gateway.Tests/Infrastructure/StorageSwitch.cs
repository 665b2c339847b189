using System.Net.Sockets;
using Azure.Core.Pipeline;
using Azure.Data.Tables;

namespace Gateway.Tests.Infrastructure;

/// <summary>
/// Table Storage that can be made to refuse: while <see cref="Refuse"/> is on, every request the gateway's table
/// clients send fails as a refused connection does (an <see cref="HttpRequestException"/> around a
/// <see cref="SocketError.ConnectionRefused"/>), before anything is sent, so nothing is queued to land later. The SDK
/// retries once, quickly, so a test sees the outcome in milliseconds rather than after production's back-off.
/// </summary>
public sealed class StorageSwitch
{
    private volatile bool _refusing;

    public void Refuse() => _refusing = true;

    public void Answer() => _refusing = false;

    public TableClientOptions Options()
    {
        var options = new TableClientOptions
        {
            Transport = new HttpClientTransport(new Refusal(this) { InnerHandler = new SocketsHttpHandler() }),
            Retry = { MaxRetries = 1, Delay = TimeSpan.FromMilliseconds(10), MaxDelay = TimeSpan.FromMilliseconds(10) },
        };
        return options;
    }

    private sealed class Refusal(StorageSwitch storage) : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            storage._refusing
                ? throw new HttpRequestException(HttpRequestError.ConnectionError, "Connection refused (storage switched off by the test)", new SocketException((int)SocketError.ConnectionRefused))
                : base.SendAsync(request, cancellationToken);
    }
}
