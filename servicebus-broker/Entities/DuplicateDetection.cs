namespace Gateway.ServiceBusBroker.Entities;

/// <summary>
/// The MessageIds an entity accepted within the last <c>window</c>: a message whose id is in it is accepted (the
/// sender sees success) and dropped, as Service Bus does with duplicate detection on. A zero window turns it off;
/// messages without a MessageId are never duplicates. Ordering rule: one lock guards the set, so of two concurrent
/// sends of one id exactly one is stored.
/// </summary>
public sealed class DuplicateDetection(TimeSpan window)
{
    private readonly object _gate = new();
    private readonly Dictionary<string, DateTimeOffset> _seen = new(StringComparer.Ordinal);
    private readonly Queue<(string Id, DateTimeOffset At)> _byAge = new();

    /// <summary>Records <paramref name="messageId"/> and answers whether it was already seen within the window.</summary>
    public bool IsDuplicate(string? messageId, DateTimeOffset now)
    {
        if (messageId is null || window <= TimeSpan.Zero)
        {
            return false;
        }

        lock (_gate)
        {
            Prune(now);
            if (_seen.ContainsKey(messageId))
            {
                return true;
            }

            _seen[messageId] = now;
            _byAge.Enqueue((messageId, now));
            return false;
        }
    }

    /// <summary>Forgets ids older than the window.</summary>
    public void Prune(DateTimeOffset now)
    {
        lock (_gate)
        {
            while (_byAge.TryPeek(out var oldest) && now - oldest.At >= window)
            {
                _byAge.Dequeue();
                if (_seen.TryGetValue(oldest.Id, out var at) && at == oldest.At)
                {
                    _seen.Remove(oldest.Id);
                }
            }
        }
    }
}
