using Amqp;
using Amqp.Framing;
using Gateway.ServiceBusBroker.Entities;

namespace Gateway.ServiceBusBroker.Amqp;

/// <summary>
/// Reads what a sender transferred: one message, or a batch (message format 0x80013700) whose data sections are each
/// one encoded message. Either way the result is the list of messages to store, with their MessageIds.
/// </summary>
internal static class BatchMessages
{
    public static IReadOnlyList<IncomingMessage> Split(Message transferred)
    {
        if (transferred.Format != ServiceBusAmqp.BatchMessageFormat)
        {
            return [ToIncoming(Encode(transferred), transferred)];
        }

        return transferred.BodySection switch
        {
            Data single => [Unpack(single)],
            DataList many => [.. Enumerable.Range(0, many.Count).Select(i => Unpack(many[i]))],
            _ => throw new AmqpException(ErrorCode.DecodeError, "A batch carries its messages in data sections."),
        };
    }

    private static IncomingMessage Unpack(Data section)
    {
        var encoded = section.Binary;
        var message = Message.Decode(new ByteBuffer(encoded, 0, encoded.Length, encoded.Length));
        return ToIncoming(encoded, message);
    }

    private static IncomingMessage ToIncoming(byte[] encoded, Message message) =>
        new(encoded, message.Properties?.GetMessageId()?.ToString());

    private static byte[] Encode(Message message)
    {
        var buffer = message.Encode();
        return buffer.Buffer.AsSpan(buffer.Offset, buffer.Length).ToArray();
    }
}
