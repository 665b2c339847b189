using Amqp;
using Amqp.Sasl;
using Amqp.Types;

namespace Gateway.ServiceBusBroker.Amqp;

/// <summary>
/// SASL mechanism MSSBCBS: the client sends an empty init and expects OK at once; it proves who it is afterwards
/// with a CBS put-token (accepted without checking the signature: this is a test broker).
/// </summary>
internal sealed class MsSbCbsSaslProfile() : SaslProfile(ServiceBusAmqp.SaslMechanism)
{
    protected override ITransport UpgradeTransport(ITransport transport) => transport;

    protected override DescribedList GetStartCommand(string hostname) =>
        throw new NotSupportedException("The broker only answers SASL; it never starts it.");

    protected override DescribedList OnCommand(DescribedList command) =>
        command is SaslInit
            ? new SaslOutcome { Code = SaslCode.Ok }
            : throw new AmqpException(ErrorCode.NotAllowed, $"Unexpected SASL frame {command}.");
}
