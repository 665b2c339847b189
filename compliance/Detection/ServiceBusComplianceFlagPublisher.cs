using System.Globalization;
using System.Text.Json;
using Azure.Messaging.ServiceBus;
using Gateway.Core.Keys;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Gateway.Compliance;

/// <summary>
/// Past one machine: every flag a scan raised or grew goes to the <c>compliance-flags</c> topic
/// (<see cref="ComplianceOptions.FlagTopic"/>) for downstream tools, on the process's one Service Bus client. The flag
/// is stored before it is published, so a send that fails is logged and the scan carries on: the table stays the
/// record, and the flag goes out again when it next grows. The message id is the flag's id and a hash of its state
/// (status, end, evidence), so a scan retried on the same evidence is dropped by duplicate detection, and each growth
/// is a new message. Body: the flag as JSON (camelCase, as the admin API lists it); subject: its kind.
/// </summary>
public sealed partial class ServiceBusComplianceFlagPublisher(
    KeyChangeTopic serviceBus,
    IOptions<ComplianceOptions> options,
    ILogger<ServiceBusComplianceFlagPublisher> logger) : IComplianceFlagPublisher, IAsyncDisposable
{
    private readonly ServiceBusSender _sender = serviceBus.Client.CreateSender(options.Value.FlagTopic);

    public static ServiceBusMessage ToMessage(ComplianceFlag flag) =>
        new(BinaryData.FromObjectAsJson(flag, JsonSerializerOptions.Web))
        {
            MessageId = MessageId(flag),
            Subject = flag.Kind,
            ContentType = "application/json",
            ApplicationProperties = { ["kind"] = flag.Kind, ["customerId"] = flag.CustomerId, ["keyId"] = flag.KeyId, ["severity"] = flag.Severity, ["status"] = flag.Status },
        };

    /// <summary>The flag's id and state: its status, end and evidence (hashed), the same for the same flag state, new when it grows.</summary>
    public static string MessageId(ComplianceFlag flag)
    {
        var evidence = string.Join(';', flag.Evidence.OrderBy(e => e.Key, StringComparer.Ordinal).Select(e => string.Create(CultureInfo.InvariantCulture, $"{e.Key}={e.Value}")));
        var state = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes($"{flag.Status}|{flag.To.UtcTicks}|{evidence}")))[..16];
        return $"{flag.Id}/{state}";
    }

    public async Task PublishAsync(ComplianceFlag flag, CancellationToken cancellationToken)
    {
        using var timeout = new CancellationTokenSource(serviceBus.PublishTimeout);
        try
        {
            await _sender.SendMessageAsync(ToMessage(flag), timeout.Token);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            LogPublishFailed(logger, flag.Kind, flag.Id, options.Value.FlagTopic, e);
        }
    }

    public ValueTask DisposeAsync() => _sender.DisposeAsync();

    [LoggerMessage(Level = LogLevel.Warning, Message = "Publishing {Kind} flag {FlagId} to topic '{Topic}' failed; it stays in the flags table and goes out again when it grows.")]
    private static partial void LogPublishFailed(ILogger logger, string kind, string flagId, string topic, Exception exception);
}
