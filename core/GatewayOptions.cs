using System.ComponentModel.DataAnnotations;
using System.Reflection;
using Gateway.Core.Plans;
using Microsoft.Extensions.Options;

namespace Gateway.Core;

/// <summary>Everything under the <c>Gateway</c> configuration section.</summary>
public sealed class GatewayOptions
{
    public const string Section = "Gateway";

    /// <summary>The plan catalog, keyed by plan name.</summary>
    public Dictionary<string, PlanOptions> Plans { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    [ValidateObjectMembers]
    public StorageOptions Storage { get; set; } = new();

    [ValidateObjectMembers]
    public KeyOptions Keys { get; set; } = new();

    [ValidateObjectMembers]
    public AdminOptions Admin { get; set; } = new();

    [ValidateObjectMembers]
    public MeteringOptions Metering { get; set; } = new();

    [ValidateObjectMembers]
    public ServiceBusOptions ServiceBus { get; set; } = new();

    [ValidateObjectMembers]
    public QuotaOptions Quotas { get; set; } = new();

    public StripeOptions Stripe { get; set; } = new();
}

/// <summary>
/// Checks the data annotations of <see cref="GatewayOptions"/> and of its sections marked
/// <see cref="ValidateObjectMembersAttribute"/>, one message per bad setting, as the annotation words it (each names
/// its setting, e.g. <c>Gateway:Keys:VerifyTimeout</c>). Not the source-generated <c>[OptionsValidator]</c>: its copy
/// of <c>[Range]</c> ignores <c>ErrorMessage</c> ("The field GatewayOptions.Keys.VerifyTimeout must be between…"),
/// and not <c>ValidateDataAnnotations</c>, whose messages wrap each one in "DataAnnotation validation failed for…".
/// </summary>
public sealed class GatewayOptionsAnnotations : IValidateOptions<GatewayOptions>
{
    private static readonly PropertyInfo[] Sections =
        [.. typeof(GatewayOptions).GetProperties().Where(p => p.IsDefined(typeof(ValidateObjectMembersAttribute), inherit: false))];

    public ValidateOptionsResult Validate(string? name, GatewayOptions options)
    {
        var failures = new List<string>();
        foreach (var target in Sections.Select(p => p.GetValue(options)).Prepend(options))
        {
            var results = new List<ValidationResult>();
            if (target is not null && !Validator.TryValidateObject(target, new ValidationContext(target), results, validateAllProperties: true))
            {
                failures.AddRange(results.Select(r => r.ErrorMessage ?? "invalid setting"));
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

/// <summary>Where Table Storage is: a connection string (Azurite, development) or an endpoint reached with managed identity.</summary>
public sealed class StorageOptions
{
    /// <summary>Connection string, e.g. Azurite's. Takes precedence over <see cref="TableEndpoint"/>.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>Table service endpoint (https://account.table.core.windows.net) reached with DefaultAzureCredential.</summary>
    public Uri? TableEndpoint { get; set; }

    /// <summary>Prefix for every table name, so several deployments or test runs can share one account.</summary>
    [RegularExpression("^[A-Za-z][A-Za-z0-9]{0,20}$|^$", ErrorMessage = "Gateway:Storage:TablePrefix must be letters and digits, starting with a letter.")]
    public string TablePrefix { get; set; } = "";
}

public sealed class KeyOptions
{
    /// <summary>Environment part of the key prefix: keys look like <c>gw_{Environment}_...</c>.</summary>
    [RegularExpression("^[a-z]{2,8}$", ErrorMessage = "Gateway:Keys:Environment must be 2 to 8 lowercase letters, such as 'live' or 'test'.")]
    public string Environment { get; set; } = "live";

    /// <summary>The longest overlap a key rotation may ask for: the window in which old and new key both work.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "90.00:00:00", ErrorMessage = "Gateway:Keys:MaxRotationOverlap must be between 00:00:00 and 90.00:00:00.")]
    public TimeSpan MaxRotationOverlap { get; set; } = TimeSpan.FromDays(7);

    /// <summary>The overlap of a rotation that asks for none (capped by <see cref="MaxRotationOverlap"/>).</summary>
    [Range(typeof(TimeSpan), "00:00:00", "90.00:00:00", ErrorMessage = "Gateway:Keys:DefaultRotationOverlap must be between 00:00:00 and 90.00:00:00.")]
    public TimeSpan DefaultRotationOverlap { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// How long a verified key is served from memory before it is re-read from storage in the background. Key changes
    /// are pushed to every instance (in-process, or over Service Bus), so this is only a safety net: it bounds how long
    /// an instance serves a changed key when the push does not reach it (Service Bus unreachable, or not configured
    /// with several instances): at most this plus one storage read. Each re-read costs two storage requests per active key.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00", ErrorMessage = "Gateway:Keys:CacheRefresh must be between 00:00:01 and 01:00:00.")]
    public TimeSpan CacheRefresh { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// The longest a key not in memory waits for storage (the key read and its quota baseline) before the caller gets
    /// 503 <c>storage-unavailable</c>, so a hanging storage gives a prompt answer instead of the SDK's full retry budget.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:01:00", ErrorMessage = "Gateway:Keys:VerifyTimeout must be between 00:00:00.100 and 00:01:00.")]
    public TimeSpan VerifyTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// What a storage outage does to keys already in memory. Unset (the default): they are served however long storage
    /// is down (fail-open for known keys; unknown keys always fail closed with 503). Set: a key whose last successful
    /// read from storage is older than this is refused with 503 <c>storage-unavailable</c> until a re-read succeeds
    /// (fail-closed after a bound), so a revoke made while an instance cannot reach storage or Service Bus takes effect
    /// there within this bound. At least <see cref="CacheRefresh"/>.
    /// </summary>
    public TimeSpan? MaxStaleness { get; set; }

    /// <summary>
    /// Storage reads for keys not in memory one client network (/24 IPv4, /64 IPv6) may cause per second, and as a
    /// burst: a token bucket. Beyond it the caller gets 429 <c>too-many-key-lookups</c> before any read.
    /// </summary>
    [Range(1, 1_000_000, ErrorMessage = "Gateway:Keys:UnknownKeyReadsPerSecondPerNetwork must be between 1 and 1000000.")]
    public int UnknownKeyReadsPerSecondPerNetwork { get; set; } = 50;

    /// <summary>The same bound for all client networks together: what one instance lets unknown keys cost storage.</summary>
    [Range(1, 1_000_000, ErrorMessage = "Gateway:Keys:UnknownKeyReadsPerSecond must be between 1 and 1000000.")]
    public int UnknownKeyReadsPerSecond { get; set; } = 1_000;
}

public sealed class AdminOptions
{
    /// <summary>Bearer token for the admin API. Also read from GATEWAY_ADMIN_TOKEN.</summary>
    public string? Token { get; set; }

    /// <summary>The largest admin request body accepted; a larger one is refused with 413 before it is read.</summary>
    [Range(1024, 16 * 1024 * 1024, ErrorMessage = "Gateway:Admin:MaxBodyBytes must be between 1024 and 16777216.")]
    public long MaxBodyBytes { get; set; } = 64 * 1024;
}

public sealed class MeteringOptions
{
    /// <summary>How often usage aggregated in memory is written to Table Storage. Without the journal a hard crash can lose at most this much.</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:05:00", ErrorMessage = "Gateway:Metering:FlushInterval must be between 00:00:00.050 and 00:05:00.")]
    public TimeSpan FlushInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// The usage rows per second one gateway writes into one Table Storage partition (one customer's month) at most.
    /// Azure's target for a partition is 2,000 entities/s; the default leaves half for other instances and readers.
    /// An interval flush writes at most this × <see cref="FlushInterval"/> rows of a partition (<see cref="PartitionBudget"/>),
    /// oldest first; the rest wait for the next flush.
    /// </summary>
    [Range(50, 100_000, ErrorMessage = "Gateway:Metering:PartitionRowsPerSecond must be between 50 and 100000.")]
    public int PartitionRowsPerSecond { get; set; } = 1_000;

    /// <summary>The most rows of one partition an interval flush writes: never less than one transaction (100 rows).</summary>
    public int PartitionBudget => (int)Math.Max(100, Math.Min(int.MaxValue, PartitionRowsPerSecond * FlushInterval.TotalSeconds));

    /// <summary>Name of this gateway instance; the writer id of its usage rows starts with it.</summary>
    public string? InstanceId { get; set; }

    /// <summary>
    /// The gateway reports itself not ready (<c>/healthz/ready</c>) once flushes have failed for this long: when the
    /// oldest count not yet in storage is older than <see cref="FlushInterval"/> plus this.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00", ErrorMessage = "Gateway:Metering:UnhealthyAfter must be between 00:00:01 and 1.00:00:00.")]
    public TimeSpan UnhealthyAfter { get; set; } = TimeSpan.FromSeconds(30);

    [ValidateObjectMembers]
    public JournalOptions Journal { get; set; } = new();
}

/// <summary>
/// The usage journal (<c>Gateway:Metering:Journal</c>): a local append-only file of this instance's counts, written with
/// group commit (fsync) a few milliseconds behind the calls and replayed at start, so a hard crash loses only the calls
/// counted since the last commit instead of a flush interval.
/// </summary>
public sealed class JournalOptions
{
    /// <summary>
    /// On or off. Unset: on in single-node mode (no <c>Gateway:ServiceBus</c>), off with Service Bus (replicas whose
    /// disk goes with them gain nothing from a local journal; give them a volume and set this to true).
    /// </summary>
    public bool? Enabled { get; set; }

    /// <summary>
    /// The folder of journals; this instance's is a subfolder named after <see cref="MeteringOptions.InstanceId"/> (else
    /// the host name). Unset: <c>data/journal</c> under the working directory. Relative paths are taken from the working directory.
    /// </summary>
    public string? Path { get; set; }

    /// <summary>
    /// The shortest time between the starts of two commits: changes made meanwhile wait and go in one batch. Bounds the
    /// fsyncs per second (and their CPU) whatever the disk's speed; a crash loses at most this plus one write and fsync
    /// of counts. Zero: commit as fast as the disk allows.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:00:01", ErrorMessage = "Gateway:Metering:Journal:CommitInterval must be between 00:00:00 and 00:00:01.")]
    public TimeSpan CommitInterval { get; set; } = TimeSpan.FromMilliseconds(5);

    /// <summary>A segment is rotated (a new one starts with every live count, the old ones are deleted) past this size.</summary>
    [Range(64 * 1024, 1024L * 1024 * 1024, ErrorMessage = "Gateway:Metering:Journal:SegmentBytes must be between 65536 and 1073741824.")]
    public long SegmentBytes { get; set; } = 16 * 1024 * 1024;

    /// <summary>Whether the journal is on, given whether Service Bus is configured (see <see cref="Enabled"/>).</summary>
    public bool IsOn(ServiceBusOptions serviceBus) => Enabled ?? !serviceBus.IsConfigured;

    /// <summary>This instance's journal folder.</summary>
    public string FolderFor(string instance) =>
        System.IO.Path.GetFullPath(System.IO.Path.Combine(Path is { Length: > 0 } path ? path : System.IO.Path.Combine("data", "journal"), instance));
}

/// <summary>
/// Where Service Bus is, for key changes (topic <see cref="Topic"/>, one subscription per gateway instance). Unset
/// (neither <see cref="ConnectionString"/> nor <see cref="FullyQualifiedNamespace"/>): single node, key changes reach
/// this process's cache in-process only, and other instances learn of them at their next <see cref="KeyOptions.CacheRefresh"/>.
/// </summary>
public sealed class ServiceBusOptions
{
    /// <summary>Connection string (the test broker, development). Takes precedence over <see cref="FullyQualifiedNamespace"/>.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>Namespace host name, e.g. <c>name.servicebus.windows.net</c>, reached with DefaultAzureCredential (production).</summary>
    public string? FullyQualifiedNamespace { get; set; }

    /// <summary>The topic key changes are published to; every gateway instance has its own subscription on it.</summary>
    [RegularExpression("^[A-Za-z0-9][A-Za-z0-9._-]{0,259}$", ErrorMessage = "Gateway:ServiceBus:Topic must be letters, digits, '.', '_' and '-'.")]
    public string Topic { get; set; } = "key-changes";

    /// <summary>
    /// This instance's subscription on <see cref="Topic"/>. Unset: the instance's name (<see cref="MeteringOptions.InstanceId"/>,
    /// else the host name, which is the replica name in Container Apps), made a valid subscription name.
    /// </summary>
    [RegularExpression("^[A-Za-z0-9][A-Za-z0-9._-]{0,49}$|^$", ErrorMessage = "Gateway:ServiceBus:Subscription must be 1 to 50 letters, digits, '.', '_' and '-'.")]
    public string? Subscription { get; set; }

    /// <summary>
    /// Whether the instance creates its subscription at start when it does not exist (administration API; auto-deleted
    /// after <see cref="SubscriptionIdleLifetime"/> without a receiver). Unset: yes, except with a connection string
    /// that has <c>UseDevelopmentEmulator=true</c> (the test broker has no administration API; it creates a
    /// subscription on its first receive).
    /// </summary>
    public bool? CreateSubscription { get; set; }

    /// <summary>How long a created subscription outlives its last receiver (a replica scaled in or crashed); Service Bus minimum 5 min.</summary>
    [Range(typeof(TimeSpan), "00:05:00", "7.00:00:00", ErrorMessage = "Gateway:ServiceBus:SubscriptionIdleLifetime must be between 00:05:00 and 7.00:00:00.")]
    public TimeSpan SubscriptionIdleLifetime { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// The longest an admin call waits for its key change to be sent. Past it (or on any send failure) the change
    /// stays stored, the call succeeds, and other instances see it by their next cache refresh.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:01:00", ErrorMessage = "Gateway:ServiceBus:PublishTimeout must be between 00:00:00.100 and 00:01:00.")]
    public TimeSpan PublishTimeout { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>True when Service Bus is configured: key changes then go to every instance over <see cref="Topic"/>.</summary>
    public bool IsConfigured => !string.IsNullOrWhiteSpace(ConnectionString) || !string.IsNullOrWhiteSpace(FullyQualifiedNamespace);
}

/// <summary>Monthly quotas (<c>Gateway:Quotas</c>).</summary>
public sealed class QuotaOptions
{
    [ValidateObjectMembers]
    public QuotaLeaseOptions Leases { get; set; } = new();
}

/// <summary>
/// Quota leases (<c>Gateway:Quotas:Leases</c>): exact monthly quotas of blocking plans across several gateway instances.
/// Each instance admits from a block of the key's quota it leased from the shared <c>QuotaLeases</c> table with
/// ETag-conditional writes; the sum of the blocks never exceeds the quota.
/// </summary>
public sealed class QuotaLeaseOptions
{
    /// <summary>On or off. Unset: on when Service Bus is configured (several instances), off in single-node mode.</summary>
    public bool? Enabled { get; set; }

    /// <summary>The largest block one lease takes; blocks shrink as the quota runs out (remaining ÷ (2 × live instances), at least 1).</summary>
    [Range(1, 1_000_000, ErrorMessage = "Gateway:Quotas:Leases:BlockSize must be between 1 and 1000000.")]
    public int BlockSize { get; set; } = 100;

    /// <summary>
    /// How long a lease lasts without renewal. An instance stops admitting from its block after 0.8 × this (the rest is
    /// margin for clock skew between instances) and renews active blocks before; a dead instance's block is reclaimed
    /// by the others once this has passed since its last renewal.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00", ErrorMessage = "Gateway:Quotas:Leases:LeaseTimeout must be between 00:00:01 and 01:00:00.")]
    public TimeSpan LeaseTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Whether leases are on, given whether Service Bus is configured (see <see cref="Enabled"/>).</summary>
    public bool IsOn(ServiceBusOptions serviceBus) => Enabled ?? serviceBus.IsConfigured;
}

/// <summary>Stripe credentials. Unset: billing runs as a dry run.</summary>
public sealed class StripeOptions
{
    /// <summary>Secret API key (<c>sk_...</c>).</summary>
    public string? SecretKey { get; set; }

    /// <summary>Signing secret of the webhook endpoint (<c>whsec_...</c>).</summary>
    public string? WebhookSecret { get; set; }
}
