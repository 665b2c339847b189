using System.Net;
using System.Net.Sockets;
using System.Text;
using Azure.Core.Pipeline;
using Azure.Data.Tables;

namespace Gateway.Tests.Infrastructure;

/// <summary>
/// Table Storage that can be made to refuse: while <see cref="Refuse"/> is on, every request the gateway's table
/// clients send fails as a refused connection does (an <see cref="HttpRequestException"/> around a
/// <see cref="SocketError.ConnectionRefused"/>), before anything is sent, so nothing is queued to land later. The SDK
/// retries once, quickly, so a test sees the outcome in milliseconds rather than after production's back-off.
/// <see cref="Busy"/> answers 503 ServerBusy instead (storage throttling), again without reaching Azurite.
/// </summary>
public sealed class StorageSwitch
{
    private const string BusyBody = """{"odata.error":{"code":"ServerBusy","message":{"lang":"en-US","value":"The server is busy (storage switched to busy by the test)."}}}""";

    private volatile bool _refusing;
    private volatile bool _busy;

    public void Refuse() => _refusing = true;

    /// <summary>Every request is answered 503 ServerBusy (throttling) without reaching storage.</summary>
    public void Busy() => _busy = true;

    public void Answer() => _refusing = _busy = false;

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
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (storage._refusing)
            {
                throw new HttpRequestException(HttpRequestError.ConnectionError, "Connection refused (storage switched off by the test)", new SocketException((int)SocketError.ConnectionRefused));
            }

            return storage._busy
                ? Task.FromResult(new HttpResponseMessage(HttpStatusCode.ServiceUnavailable)
                {
                    RequestMessage = request,
                    Content = new StringContent(BusyBody, Encoding.UTF8, "application/json"),
                })
                : base.SendAsync(request, cancellationToken);
        }
    }
}
