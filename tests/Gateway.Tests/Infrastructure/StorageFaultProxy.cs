using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace Gateway.Tests.Infrastructure;

/// <summary>
/// A TCP proxy on loopback between a gateway and Azurite that makes storage fail for real, on demand. Point the
/// gateway at <see cref="ConnectionString"/>; read and write Azurite directly (<see cref="Azurite.ConnectionString"/>)
/// to see what really reached storage.
/// <list type="bullet">
/// <item><see cref="Refuse"/>: the port stops listening (new connections are refused) and every open connection is
/// reset. Nothing sent before or after reaches Azurite later: unlike a frozen (SIGSTOP) Azurite, which replays the
/// requests queued on its sockets when it thaws, an outage here loses them as a real one does.</item>
/// <item><see cref="BlackHole"/>: connections are accepted, open ones cut off from Azurite, and whatever the gateway
/// sends is swallowed without an answer: storage that hangs.</item>
/// <item><see cref="Restore"/>: forwards again; black-holed connections are reset so the client reconnects.</item>
/// </list>
/// </summary>
public sealed class StorageFaultProxy : IAsyncDisposable
{
    private readonly Azurite _azurite;
    private readonly ConcurrentDictionary<Link, byte> _links = new();
    private readonly Lock _gate = new();
    private TcpListener? _listener;
    private Fault _fault;
    private int _connections;

    private StorageFaultProxy(Azurite azurite, int port)
    {
        _azurite = azurite;
        Port = port;
    }

    private enum Fault
    {
        None,
        Refusing,
        BlackHoled,
    }

    public int Port { get; }

    /// <summary>Azurite's connection string, through this proxy.</summary>
    public string ConnectionString => Azurite.ConnectionStringFor(Port);

    /// <summary>Connections accepted since start (so a test can show that the gateway's storage traffic goes through here).</summary>
    public int Connections => Volatile.Read(ref _connections);

    public static StorageFaultProxy Start(Azurite azurite)
    {
        var proxy = new StorageFaultProxy(azurite, FreePort.Take(1)[0]);
        proxy.Listen();
        return proxy;
    }

    /// <summary>Storage refuses: no new connection is accepted, and every open one is reset.</summary>
    public void Refuse()
    {
        lock (_gate)
        {
            _fault = Fault.Refusing;
            _listener?.Stop();
            _listener = null;
            foreach (var link in _links.Keys)
            {
                link.Reset();
            }
        }
    }

    /// <summary>Storage hangs: connections are accepted and open ones kept, but nothing reaches Azurite and nothing comes back.</summary>
    public void BlackHole()
    {
        lock (_gate)
        {
            _fault = Fault.BlackHoled;
            foreach (var link in _links.Keys)
            {
                link.CutOff();
            }
        }
    }

    /// <summary>Storage answers again. Connections left from a black hole are reset, as a real client would find them broken.</summary>
    public void Restore()
    {
        lock (_gate)
        {
            foreach (var link in _links.Keys)
            {
                if (link.IsCutOff)
                {
                    link.Reset();
                }
            }

            _fault = Fault.None;
            if (_listener is null)
            {
                Listen();
            }
        }
    }

    public ValueTask DisposeAsync()
    {
        lock (_gate)
        {
            _fault = Fault.Refusing;
            _listener?.Stop();
            _listener = null;
            foreach (var link in _links.Keys)
            {
                link.Reset();
            }
        }

        return ValueTask.CompletedTask;
    }

    private void Listen()
    {
        var listener = new TcpListener(IPAddress.Loopback, Port);
        listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        listener.Start();
        _listener = listener;
        _ = AcceptAsync(listener);
    }

    private async Task AcceptAsync(TcpListener listener)
    {
        while (true)
        {
            Socket client;
            try
            {
                client = await listener.AcceptSocketAsync();
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                return;
            }

            Interlocked.Increment(ref _connections);
            _ = ServeAsync(client);
        }
    }

    private async Task ServeAsync(Socket client)
    {
        var link = new Link(client);
        _links.TryAdd(link, 0);
        try
        {
            Fault fault;
            lock (_gate)
            {
                fault = _fault;
                if (fault == Fault.BlackHoled)
                {
                    link.CutOff();
                }
            }

            if (fault == Fault.Refusing)
            {
                link.Reset();
                return;
            }

            if (fault == Fault.None)
            {
                var upstream = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                await upstream.ConnectAsync(IPAddress.Loopback, _azurite.Port);
                lock (_gate)
                {
                    if (!link.Attach(upstream))
                    {
                        return;
                    }
                }
            }

            await link.PumpAsync();
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
        }
        finally
        {
            _links.TryRemove(link, out _);
            link.Close();
        }
    }

    /// <summary>One client connection and, unless cut off, its connection to Azurite.</summary>
    private sealed class Link(Socket client)
    {
        private Socket? _upstream;
        private volatile bool _cutOff;
        private volatile bool _closed;

        public bool IsCutOff => _cutOff;

        /// <summary>Connects the client to Azurite, unless the link was cut off or reset meanwhile.</summary>
        public bool Attach(Socket upstream)
        {
            if (_cutOff || _closed)
            {
                Abort(upstream);
                return false;
            }

            _upstream = upstream;
            return true;
        }

        /// <summary>Copies both ways until either side closes; once cut off, swallows what the client sends until it gives up or is reset.</summary>
        public async Task PumpAsync()
        {
            if (_upstream is not { } upstream)
            {
                await CopyAsync(client, null);
                return;
            }

            var toAzurite = CopyAsync(client, upstream);
            var toClient = CopyAsync(upstream, client);
            var first = await Task.WhenAny(toAzurite, toClient);
            if (first == toClient && _cutOff)
            {
                await toAzurite;
            }
        }

        /// <summary>Stops forwarding: Azurite's side is reset (whatever it has not read yet is lost), the client's stays open.</summary>
        public void CutOff()
        {
            _cutOff = true;
            if (_upstream is { } upstream)
            {
                Abort(upstream);
            }
        }

        /// <summary>Resets both sides (RST, not FIN), as a crashed or unreachable server would.</summary>
        public void Reset()
        {
            _closed = true;
            Abort(client);
            if (_upstream is { } upstream)
            {
                Abort(upstream);
            }
        }

        public void Close()
        {
            _closed = true;
            client.Dispose();
            _upstream?.Dispose();
        }

        private async Task CopyAsync(Socket from, Socket? to)
        {
            var buffer = new byte[16 * 1024];
            try
            {
                while (true)
                {
                    var read = await from.ReceiveAsync(buffer, SocketFlags.None);
                    if (read == 0)
                    {
                        return;
                    }

                    if (to is not null && !_cutOff)
                    {
                        await to.SendAsync(buffer.AsMemory(0, read), SocketFlags.None);
                    }
                }
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
            }
        }

        private static void Abort(Socket socket)
        {
            try
            {
                socket.LingerState = new LingerOption(true, 0);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
            }

            socket.Dispose();
        }
    }
}
