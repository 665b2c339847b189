using System.Net;
using System.Net.Sockets;

namespace Gateway.Tests.Infrastructure;

/// <summary>
/// Data-plane clients whose connections come from a chosen loopback address (127.x.y.z: one per simulated client
/// network), optionally with a user agent: the gateway sees them as distinct callers, as it would distinct hosts.
/// </summary>
public static class SyntheticClients
{
    public static HttpClient From(TestGateway gateway, string source, string? userAgent = null)
    {
        var client = new HttpClient(new SocketsHttpHandler
        {
            ConnectCallback = async (context, cancellationToken) =>
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                try
                {
                    socket.Bind(new IPEndPoint(IPAddress.Parse(source), 0));
                    await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        })
        {
            BaseAddress = gateway.Data.BaseAddress,
        };
        if (userAgent is not null)
        {
            client.DefaultRequestHeaders.UserAgent.ParseAdd(userAgent);
        }

        return client;
    }
}
