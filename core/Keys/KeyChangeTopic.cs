using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Azure.Identity;
using Azure.Messaging.ServiceBus;
using Azure.Messaging.ServiceBus.Administration;
using Microsoft.Extensions.Options;

namespace Gateway.Core.Keys;

/// <summary>
/// The Service Bus topic key changes travel on (<see cref="ServiceBusOptions.Topic"/>, <c>key-changes</c>): one
/// client for the process, how a <see cref="KeyChange"/> looks as a message, and this instance's subscription.
/// Registered only when <see cref="ServiceBusOptions.IsConfigured"/>.
/// </summary>
public sealed class KeyChangeTopic : IAsyncDisposable
{
    private const int MaxSubscriptionName = 50;
    private readonly ServiceBusOptions _options;

    public KeyChangeTopic(IOptions<GatewayOptions> options)
    {
        _options = options.Value.ServiceBus;
        var clientOptions = new ServiceBusClientOptions
        {
            // A try that hangs (namespace unreachable) gives up after 5 s instead of the default 60 s; a publish is
            // bounded by PublishTimeout anyway, and the processor keeps retrying on its own.
            RetryOptions = new ServiceBusRetryOptions { TryTimeout = TimeSpan.FromSeconds(5), MaxRetries = 3, Delay = TimeSpan.FromMilliseconds(200), MaxDelay = TimeSpan.FromSeconds(5) },
        };
        Client = !string.IsNullOrWhiteSpace(_options.ConnectionString)
            ? new ServiceBusClient(_options.ConnectionString, clientOptions)
            : new ServiceBusClient(_options.FullyQualifiedNamespace, new DefaultAzureCredential(), clientOptions);
        Name = _options.Topic;
        Subscription = SubscriptionName(_options.Subscription, options.Value.Metering.InstanceId);
        Sender = Client.CreateSender(Name);
    }

    public ServiceBusClient Client { get; }

    public ServiceBusSender Sender { get; }

    /// <summary>The topic's name.</summary>
    public string Name { get; }

    /// <summary>This instance's subscription on the topic.</summary>
    public string Subscription { get; }

    /// <summary>The longest an admin call waits for its change to be sent.</summary>
    public TimeSpan PublishTimeout => _options.PublishTimeout;

    /// <summary>Whether <see cref="EnsureSubscriptionAsync"/> creates the subscription (see <see cref="ServiceBusOptions.CreateSubscription"/>).</summary>
    public bool CreatesSubscription => _options.CreateSubscription
        ?? !(_options.ConnectionString?.Contains("UseDevelopmentEmulator=true", StringComparison.OrdinalIgnoreCase) ?? false);

    /// <summary>
    /// The configured subscription name, else the instance's name (instance id, else host name) cut to what Service
    /// Bus accepts: letters, digits, '.', '_' and '-', at most 50 characters.
    /// </summary>
    public static string SubscriptionName(string? configured, string? instanceId)
    {
        if (!string.IsNullOrWhiteSpace(configured))
        {
            return configured;
        }

        var instance = instanceId is { Length: > 0 } ? instanceId : Environment.MachineName;
        var name = new StringBuilder(instance.Length);
        foreach (var c in instance)
        {
            name.Append(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' ? char.ToLowerInvariant(c) : '-');
        }

        var cut = name.ToString().Trim('.', '_', '-');
        cut = cut.Length > MaxSubscriptionName ? cut[^MaxSubscriptionName..].TrimStart('.', '_', '-') : cut;
        return cut.Length == 0 ? "gateway" : cut;
    }

    /// <summary>Creates this instance's subscription if it is missing (auto-deleted once idle), unless configured not to.</summary>
    public async Task EnsureSubscriptionAsync(CancellationToken cancellationToken)
    {
        if (!CreatesSubscription)
        {
            return;
        }

        var administration = !string.IsNullOrWhiteSpace(_options.ConnectionString)
            ? new ServiceBusAdministrationClient(_options.ConnectionString)
            : new ServiceBusAdministrationClient(_options.FullyQualifiedNamespace, new DefaultAzureCredential());
        if (!await administration.SubscriptionExistsAsync(Name, Subscription, cancellationToken))
        {
            try
            {
                await administration.CreateSubscriptionAsync(
                    new CreateSubscriptionOptions(Name, Subscription) { AutoDeleteOnIdle = _options.SubscriptionIdleLifetime, MaxDeliveryCount = 10 },
                    cancellationToken);
            }
            catch (ServiceBusException e) when (e.Reason == ServiceBusFailureReason.MessagingEntityAlreadyExists)
            {
                // Another start of the same instance name created it meanwhile.
            }
        }
    }

    /// <summary>The message for a change: ids, kind and time in the body and as properties; never a secret or a hash.</summary>
    public static ServiceBusMessage ToMessage(KeyChange change)
    {
        var body = JsonSerializer.SerializeToUtf8Bytes(new KeyChangeBody(change.KeyId, change.CustomerId, change.Reason, change.ChangedAt), KeyChangeJson.Default.KeyChangeBody);
        var message = new ServiceBusMessage(body)
        {
            MessageId = change.MessageId,
            Subject = change.Reason,
            ContentType = "application/json",
        };
        message.ApplicationProperties["keyId"] = change.KeyId;
        message.ApplicationProperties["reason"] = change.Reason;
        return message;
    }

    /// <summary>The change a message announces; null when the message is not one (wrong body, or a key id of the wrong shape).</summary>
    public static KeyChange? FromMessage(ServiceBusReceivedMessage message)
    {
        try
        {
            var body = JsonSerializer.Deserialize(message.Body.ToMemory().Span, KeyChangeJson.Default.KeyChangeBody);
            return body is { KeyId: { } keyId, CustomerId: { } customerId, Reason: { } reason } && ApiKeyFormat.IsKeyId(keyId)
                ? new KeyChange(keyId, customerId, reason, body.ChangedAt)
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Sender.DisposeAsync();
        await Client.DisposeAsync();
    }

}

/// <summary>The body of a key-change message (camelCase JSON).</summary>
internal sealed record KeyChangeBody(string? KeyId, string? CustomerId, string? Reason, DateTimeOffset ChangedAt);

/// <summary>Source-generated: no reflection on the first message an instance receives.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(KeyChangeBody))]
internal sealed partial class KeyChangeJson : JsonSerializerContext;
