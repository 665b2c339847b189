namespace Gateway.ServiceBusBroker.Entities;

/// <summary>
/// The peek-lock store behind a queue, a subscription and each dead-letter sub-queue: messages available in
/// sequence-number order, the locks held on delivered ones, and the receivers with their link credit.
/// </summary>
/// <remarks>
/// Ordering rule: one lock (<c>_gate</c>) guards every field; a message is in exactly one place at a time (available,
/// locked, or gone), so a settlement, a lock expiry and a redelivery can never both win. Transmission happens outside
/// the lock, on one pump at a time (<see cref="Pump"/>), so deliveries leave in the order they were assigned and no
/// AMQP call is made while the lock is held.
/// Lock rules, as Service Bus: a lock lasts <see cref="EntityRules.LockDuration"/> from delivery or renewal; a
/// receiver that goes away keeps its locks until they expire; an expired or abandoned message comes back with one
/// more delivery, and after <see cref="EntityRules.MaxDeliveryCount"/> deliveries it goes to the dead-letter queue.
/// </remarks>
public sealed class MessageQueue
{
    /// <summary>The dead-letter reason Service Bus gives a message that ran out of deliveries.</summary>
    public const string MaxDeliveryCountExceeded = "MaxDeliveryCountExceeded";

    private readonly object _gate = new();
    private readonly SortedDictionary<long, StoredMessage> _available = [];
    private readonly Dictionary<Guid, HeldLock> _locks = [];
    private readonly List<ReceiverCredit> _receivers = [];
    private readonly EntityRules _rules;
    private readonly MessageQueue? _deadLetters;
    private long _lastSequenceNumber;
    private int _nextReceiver;
    private int _pumping;
    private int _pumpRequested;

    public MessageQueue(string path, EntityRules rules, MessageQueue? deadLetters)
    {
        Path = path;
        _rules = rules;
        _deadLetters = deadLetters;
    }

    /// <summary>The entity path, e.g. <c>orders</c>, <c>key-changes/Subscriptions/gateway-1/$DeadLetterQueue</c>.</summary>
    public string Path { get; }

    /// <summary>Messages waiting for a receiver.</summary>
    public int AvailableCount
    {
        get
        {
            lock (_gate)
            {
                return _available.Count;
            }
        }
    }

    /// <summary>Messages delivered and locked, not yet settled.</summary>
    public int LockedCount
    {
        get
        {
            lock (_gate)
            {
                return _locks.Count;
            }
        }
    }

    /// <summary>Stores a new message at the end of the queue.</summary>
    public void Enqueue(IncomingMessage message)
    {
        lock (_gate)
        {
            var sequenceNumber = ++_lastSequenceNumber;
            _available.Add(sequenceNumber, new StoredMessage(message.Encoded, message.MessageId, sequenceNumber, _rules.Time.GetUtcNow()));
        }

        Pump();
    }

    /// <summary>Adds a receiver; it gets messages once it grants credit.</summary>
    public void Attach(IMessageReceiver receiver)
    {
        lock (_gate)
        {
            _receivers.Add(new ReceiverCredit(receiver));
        }
    }

    /// <summary>Removes a receiver. Its locks stay until they expire, as on Service Bus.</summary>
    public void Detach(IMessageReceiver receiver)
    {
        lock (_gate)
        {
            _receivers.RemoveAll(r => r.Receiver == receiver);
        }
    }

    /// <summary>The receiver's link credit moved by <paramref name="delta"/> (zero or less: the receiver took it all back).</summary>
    public void GrantCredit(IMessageReceiver receiver, int delta, bool drain)
    {
        lock (_gate)
        {
            var entry = _receivers.Find(r => r.Receiver == receiver);
            if (entry is null)
            {
                return;
            }

            entry.Credit = delta > 0 ? entry.Credit + delta : 0;
            entry.Drain = drain;
        }

        Pump();
    }

    /// <summary>Settles a locked message. An expired lock is answered with <see cref="LockOutcome.LockLost"/>, and the message comes back.</summary>
    public LockOutcome Settle(Guid lockToken, Settlement settlement)
    {
        lock (_gate)
        {
            if (!TryTakeLiveLock(lockToken, out var held))
            {
                return LockOutcome.LockLost;
            }

            switch (settlement.Kind)
            {
                case SettlementKind.Complete:
                    break;
                case SettlementKind.Abandon:
                    ReturnFailedDelivery(held.Message with { ModifiedProperties = Merge(held.Message.ModifiedProperties, settlement.PropertiesToModify) });
                    break;
                case SettlementKind.DeadLetter:
                    MoveToDeadLetters(
                        held.Message with { ModifiedProperties = Merge(held.Message.ModifiedProperties, settlement.PropertiesToModify) },
                        settlement.DeadLetterReason,
                        settlement.DeadLetterDescription);
                    break;
            }
        }

        Pump();
        return LockOutcome.Done;
    }

    /// <summary>Extends each lock by the lock duration from now. All or nothing: one lost lock fails the renewal.</summary>
    public LockOutcome RenewLocks(IReadOnlyList<Guid> lockTokens, out DateTimeOffset[] lockedUntil)
    {
        lockedUntil = new DateTimeOffset[lockTokens.Count];
        var now = _rules.Time.GetUtcNow();
        lock (_gate)
        {
            foreach (var token in lockTokens)
            {
                if (!_locks.TryGetValue(token, out var held) || held.LockedUntil <= now)
                {
                    return LockOutcome.LockLost;
                }
            }

            for (var i = 0; i < lockTokens.Count; i++)
            {
                var held = _locks[lockTokens[i]];
                held.LockedUntil = now + _rules.LockDuration;
                lockedUntil[i] = held.LockedUntil;
            }
        }

        return LockOutcome.Done;
    }

    /// <summary>Releases every lock that has expired: the message comes back with one more delivery (or is dead-lettered).</summary>
    public void ExpireLocks()
    {
        var now = _rules.Time.GetUtcNow();
        var expiredAny = false;
        lock (_gate)
        {
            foreach (var (token, held) in _locks.Where(l => l.Value.LockedUntil <= now).ToList())
            {
                _locks.Remove(token);
                ReturnFailedDelivery(held.Message);
                expiredAny = true;
            }
        }

        if (expiredAny)
        {
            Pump();
        }
    }

    /// <summary>Asks for a pump pass; at most one runs at a time, and a request made during a pass causes another.</summary>
    public void Pump()
    {
        Interlocked.Exchange(ref _pumpRequested, 1);
        if (Interlocked.CompareExchange(ref _pumping, 1, 0) == 0)
        {
            ThreadPool.UnsafeQueueUserWorkItem(static queue => queue.RunPump(), this, preferLocal: false);
        }
    }

    private void RunPump()
    {
        while (true)
        {
            Interlocked.Exchange(ref _pumpRequested, 0);
            var (deliveries, drained) = AssignMessages();
            foreach (var (receiver, message) in deliveries)
            {
                if (!receiver.TryDeliver(message))
                {
                    TakeBackUndelivered(receiver, message);
                }
            }

            foreach (var receiver in drained)
            {
                receiver.CompleteDrain();
            }

            // A full fence between giving up the pump and reading the request flag: with a plain release write the
            // read could pass the write (store-load reordering), a concurrent Pump() would still see _pumping = 1
            // and leave its request to this pass, and this pass would return having read no request: a lost
            // wakeup, seen as a drain never answered (the client's close timing out after 10 s).
            Interlocked.Exchange(ref _pumping, 0);
            if (Volatile.Read(ref _pumpRequested) == 0 || Interlocked.CompareExchange(ref _pumping, 1, 0) != 0)
            {
                return;
            }
        }
    }

    private (List<(IMessageReceiver, LockedMessage)> Deliveries, List<IMessageReceiver> Drained) AssignMessages()
    {
        var deliveries = new List<(IMessageReceiver, LockedMessage)>();
        var drained = new List<IMessageReceiver>();
        var now = _rules.Time.GetUtcNow();
        lock (_gate)
        {
            while (_available.Count > 0 && NextReceiverWithCredit() is { } entry)
            {
                var (sequenceNumber, message) = _available.First();
                _available.Remove(sequenceNumber);
                entry.Credit--;
                if (entry.Receiver.SettlesOnSend)
                {
                    deliveries.Add((entry.Receiver, new LockedMessage(message, Guid.Empty, now)));
                    continue;
                }

                var held = new HeldLock(message, now + _rules.LockDuration);
                var token = Guid.NewGuid();
                _locks.Add(token, held);
                deliveries.Add((entry.Receiver, new LockedMessage(message, token, held.LockedUntil)));
            }

            if (_available.Count == 0)
            {
                foreach (var entry in _receivers.Where(r => r.Drain))
                {
                    entry.Credit = 0;
                    entry.Drain = false;
                    drained.Add(entry.Receiver);
                }
            }
        }

        return (deliveries, drained);
    }

    private ReceiverCredit? NextReceiverWithCredit()
    {
        for (var i = 0; i < _receivers.Count; i++)
        {
            var entry = _receivers[(_nextReceiver + i) % _receivers.Count];
            if (entry.Credit > 0)
            {
                _nextReceiver = (_nextReceiver + i + 1) % _receivers.Count;
                return entry;
            }
        }

        return null;
    }

    /// <summary>The link was gone before the message left: it goes back as it was, no delivery counted.</summary>
    private void TakeBackUndelivered(IMessageReceiver receiver, LockedMessage message)
    {
        lock (_gate)
        {
            if (!message.IsLocked || _locks.Remove(message.LockToken))
            {
                _available[message.Message.SequenceNumber] = message.Message;
            }

            _receivers.RemoveAll(r => r.Receiver == receiver);
        }
    }

    private bool TryTakeLiveLock(Guid lockToken, out HeldLock held)
    {
        if (!_locks.Remove(lockToken, out held!))
        {
            return false;
        }

        if (held.LockedUntil > _rules.Time.GetUtcNow())
        {
            return true;
        }

        ReturnFailedDelivery(held.Message);
        return false;
    }

    private void ReturnFailedDelivery(StoredMessage message)
    {
        var failed = message with { FailedDeliveries = message.FailedDeliveries + 1 };
        if (_deadLetters is not null && failed.FailedDeliveries >= _rules.MaxDeliveryCount)
        {
            MoveToDeadLetters(
                failed,
                MaxDeliveryCountExceeded,
                $"Message could not be consumed after {_rules.MaxDeliveryCount} delivery attempts.");
            return;
        }

        _available[failed.SequenceNumber] = failed;
    }

    private void MoveToDeadLetters(StoredMessage message, string? reason, string? description)
    {
        if (_deadLetters is null)
        {
            // A dead-letter queue has none of its own; Service Bus refuses the operation, here the message stays.
            _available[message.SequenceNumber] = message;
            return;
        }

        _deadLetters.Receive(message with { DeadLetter = new DeadLetterDetails(reason, description, Path) });
    }

    /// <summary>Takes a dead-lettered message, keeping its sequence number (the dead-letter queue is this queue's sibling).</summary>
    private void Receive(StoredMessage message)
    {
        lock (_gate)
        {
            _available[message.SequenceNumber] = message;
        }

        Pump();
    }

    private static IReadOnlyDictionary<string, object>? Merge(
        IReadOnlyDictionary<string, object>? existing,
        IReadOnlyDictionary<string, object>? changes)
    {
        if (changes is null || changes.Count == 0)
        {
            return existing;
        }

        var merged = existing is null ? new Dictionary<string, object>() : new Dictionary<string, object>(existing);
        foreach (var (key, value) in changes)
        {
            merged[key] = value;
        }

        return merged;
    }

    private sealed class HeldLock(StoredMessage message, DateTimeOffset lockedUntil)
    {
        public StoredMessage Message { get; } = message;

        public DateTimeOffset LockedUntil { get; set; } = lockedUntil;
    }

    private sealed class ReceiverCredit(IMessageReceiver receiver)
    {
        public IMessageReceiver Receiver { get; } = receiver;

        public int Credit { get; set; }

        public bool Drain { get; set; }
    }
}
