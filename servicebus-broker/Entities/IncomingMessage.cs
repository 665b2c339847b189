namespace Gateway.ServiceBusBroker.Entities;

/// <summary>One message as a sender sent it (a batch is split into these first): its encoded sections and its MessageId.</summary>
public sealed record IncomingMessage(byte[] Encoded, string? MessageId);
