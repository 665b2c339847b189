using System.Net;
using System.Net.Sockets;
using Amqp;
using Amqp.Listener;
using Gateway.ServiceBusBroker.Amqp;
using Gateway.ServiceBusBroker.Entities;

namespace Gateway.ServiceBusBroker;

/// <summary>
/// An in-memory Service Bus for tests and local runs: an AMQP 1.0 listener (plain TCP, no TLS) that the official
/// Azure.Messaging.ServiceBus client uses through <see cref="ConnectionString"/>, whose
/// <c>UseDevelopmentEmulator=true</c> makes the client skip TLS and keep the port.
/// </summary>
public sealed class ServiceBusTestBroker : IAsyncDisposable
{
    private const int BindAttempts = 5;

    private readonly ContainerHost _host;

    private ServiceBusTestBroker(ContainerHost host, ServiceBusNamespace entities, string hostName, int port)
    {
        _host = host;
        Entities = entities;
        Port = port;
        ConnectionString =
            $"Endpoint=sb://{hostName}:{port};SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=SAS_KEY_VALUE;UseDevelopmentEmulator=true";
    }

    /// <summary>The port the broker listens on.</summary>
    public int Port { get; }

    /// <summary>A connection string for <c>new ServiceBusClient(...)</c>.</summary>
    public string ConnectionString { get; }

    /// <summary>The queues, topics and subscriptions, for inspection (message counts) or for adding entities.</summary>
    public ServiceBusNamespace Entities { get; }

    /// <summary>Starts listening. With port 0 a free port is picked (and picked again if another process takes it first).</summary>
    public static Task<ServiceBusTestBroker> StartAsync(BrokerOptions? options = null)
    {
        options ??= new BrokerOptions();
        var rules = new EntityRules(options.LockDuration, options.MaxDeliveryCount, options.DuplicateDetectionWindow, options.Time);
        var entities = new ServiceBusNamespace(rules, options.CreateEntitiesOnFirstUse);
        try
        {
            foreach (var queue in options.Queues)
            {
                entities.AddQueue(queue);
            }

            foreach (var topic in options.Topics)
            {
                entities.AddTopic(topic);
            }

            foreach (var subscription in options.Subscriptions)
            {
                var parts = subscription.Split('/', 2, StringSplitOptions.TrimEntries);
                if (parts.Length != 2 || parts[0].Length == 0 || parts[1].Length == 0)
                {
                    throw new ArgumentException($"A subscription is named 'topic/subscription', not '{subscription}'.", nameof(options));
                }

                entities.AddSubscription(parts[0], parts[1]);
            }

            for (var attempt = 1; ; attempt++)
            {
                var port = options.Port != 0 ? options.Port : FreePort(options.Host);
                try
                {
                    var host = Listen(options, entities, port);
                    return Task.FromResult(new ServiceBusTestBroker(host, entities, options.Host, port));
                }
                catch (SocketException) when (options.Port == 0 && attempt < BindAttempts)
                {
                    // Another process bound the port between picking and listening: pick again.
                }
            }
        }
        catch
        {
            entities.Dispose();
            throw;
        }
    }

    public ValueTask DisposeAsync()
    {
        _host.Close();
        Entities.Dispose();
        return ValueTask.CompletedTask;
    }

    private static ContainerHost Listen(BrokerOptions options, ServiceBusNamespace entities, int port)
    {
        var host = new ContainerHost(new Address(options.Host, port, user: null, password: null, path: "/", scheme: "amqp"));
        var listener = host.Listeners[0];
        listener.SASL.EnableMechanism(ServiceBusAmqp.SaslMechanism, new MsSbCbsSaslProfile());
        listener.SASL.EnableAnonymousMechanism = true;
        listener.HandlerFactory = _ => LockTokenTagging.Instance;
        host.RegisterLinkProcessor(new LinkRouter(entities, new ReplyLinks(), options.MaxMessageSize));
        try
        {
            host.Open();
        }
        catch
        {
            host.Close();
            throw;
        }

        return host;
    }

    private static int FreePort(string host)
    {
        var probe = new TcpListener(IPAddress.TryParse(host, out var address) ? address : IPAddress.Loopback, 0);
        probe.Start();
        try
        {
            return ((IPEndPoint)probe.LocalEndpoint).Port;
        }
        finally
        {
            probe.Stop();
        }
    }
}
