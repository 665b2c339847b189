using Amqp.Types;

namespace Gateway.ServiceBusBroker.Amqp;

/// <summary>The names Service Bus uses on the wire: annotations, error conditions, request properties.</summary>
internal static class ServiceBusAmqp
{
    /// <summary>The only SASL mechanism Azure.Messaging.ServiceBus offers: authentication follows as CBS tokens.</summary>
    public const string SaslMechanism = "MSSBCBS";

    /// <summary>The claims-based-security node where the client puts a token before every attach.</summary>
    public const string CbsAddress = "$cbs";

    /// <summary>Message format of a batch: one AMQP message whose data sections are each an encoded message.</summary>
    public const uint BatchMessageFormat = 0x80013700;

    public static readonly Symbol SequenceNumber = new("x-opt-sequence-number");
    public static readonly Symbol EnqueuedTime = new("x-opt-enqueued-time");
    public static readonly Symbol LockedUntil = new("x-opt-locked-until");
    public static readonly Symbol LockToken = new("x-opt-lock-token");
    public static readonly Symbol DeadLetterSource = new("x-opt-deadletter-source");

    public const string DeadLetterReasonProperty = "DeadLetterReason";
    public const string DeadLetterDescriptionProperty = "DeadLetterErrorDescription";

    public static readonly Symbol DeadLetterCondition = new("com.microsoft:dead-letter");
    public static readonly Symbol MessageLockLost = new("com.microsoft:message-lock-lost");
    public static readonly Symbol EntityNotFound = new("amqp:not-found");
    public static readonly Symbol NotImplemented = new("amqp:not-implemented");
    public static readonly Symbol NotAllowed = new("amqp:not-allowed");

    /// <summary>Management request and reply names (the reply status keys are camelCase; CBS uses kebab-case).</summary>
    public static class Management
    {
        public const string Operation = "operation";
        public const string StatusCode = "statusCode";
        public const string StatusDescription = "statusDescription";
        public const string ErrorCondition = "errorCondition";
        public const string RenewLock = "com.microsoft:renew-lock";
        public const string UpdateDisposition = "com.microsoft:update-disposition";
        public const string LockTokens = "lock-tokens";
        public const string Expirations = "expirations";
        public const string DispositionStatus = "disposition-status";
        public const string DeadLetterReason = "deadletter-reason";
        public const string DeadLetterDescription = "deadletter-description";
        public const string PropertiesToModify = "properties-to-modify";
    }

    public static class Cbs
    {
        public const string PutToken = "put-token";
        public const string StatusCode = "status-code";
        public const string StatusDescription = "status-description";
    }
}
