namespace Gateway.ServiceBusBroker.Entities;

/// <summary>
/// A message handed to one receiver: locked (peek-lock) until <see cref="LockedUntil"/>, or, with
/// <see cref="LockToken"/> empty, already removed (receive-and-delete).
/// </summary>
public sealed record LockedMessage(StoredMessage Message, Guid LockToken, DateTimeOffset LockedUntil)
{
    public bool IsLocked => LockToken != Guid.Empty;
}
