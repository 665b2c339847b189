using System.ComponentModel.DataAnnotations;

namespace Gateway.Compliance;

/// <summary>Settings under <c>Gateway:Compliance</c>: licence terms and detection thresholds per plan, and the job's timing.</summary>
public sealed class ComplianceOptions
{
    public const string Section = "Gateway:Compliance";

    /// <summary>How often the gateway runs detection in-process (the function app's timer has its own schedule).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan ScanInterval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How far back a scan reads evidence: the hours a flag's numbers are counted over.</summary>
    [Range(typeof(TimeSpan), "01:00:00", "31.00:00:00")]
    public TimeSpan ScanWindow { get; set; } = TimeSpan.FromHours(24);

    /// <summary>How often the gateway writes the evidence it holds in memory to the evidence table.</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "01:00:00")]
    public TimeSpan FlushInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The Service Bus topic flags go out on when <c>Gateway:ServiceBus</c> is configured (infra/ provisions it).</summary>
    [Required]
    [StringLength(260, MinimumLength = 1)]
    public string FlagTopic { get; set; } = "compliance-flags";

    /// <summary>Distinct client networks and user agents one key-hour cell remembers; beyond it the cell counts "at least this many".</summary>
    [Range(8, 4096)]
    public int DistinctCap { get; set; } = 256;

    /// <summary>
    /// The secret canary ids are derived from (HMAC-SHA256 of key id and UTC day): at least 32 characters, the same on
    /// every gateway instance and the function app, never shown to customers. Required when a route has a canary.
    /// </summary>
    public string? CanarySecret { get; set; }

    /// <summary>Per YARP route id: where its JSON responses hold record ids (<c>Gateway:Compliance:Routes:{routeId}:RecordIdPath</c>).</summary>
    public Dictionary<string, RouteComplianceOptions> Routes { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Licence terms and detection thresholds by plan name; a plan not listed gets the defaults of <see cref="PlanComplianceOptions"/>.</summary>
    public Dictionary<string, PlanComplianceOptions> Plans { get; set; } = new(StringComparer.OrdinalIgnoreCase);
}

/// <summary>What compliance reads from one route's responses.</summary>
public sealed class RouteComplianceOptions
{
    /// <summary>
    /// The record ids in the route's 2xx <c>application/json</c> responses, as a JSONPath subset (<c>$.data[*].id</c>:
    /// <c>.name</c> steps and <c>[*]</c> wildcards; see <see cref="RecordIdPath"/>). Empty: records are not counted.
    /// </summary>
    public string? RecordIdPath { get; set; }

    /// <summary>Canary records for this route's responses (<c>Gateway:Compliance:Routes:{routeId}:Canary</c>); none when no template is set.</summary>
    public CanaryOptions Canary { get; set; } = new();
}

/// <summary>One route's canary records: a synthetic record shaped like the route's, inserted into each JSON list response, one id per key and UTC day.</summary>
public sealed class CanaryOptions
{
    /// <summary>The placeholder the canary id replaces in <see cref="Template"/>.</summary>
    public const string Placeholder = "{canary}";

    /// <summary>
    /// The canary record as a JSON object with <c>{canary}</c> where its id goes (inside quotes for a string id, bare for
    /// a number), e.g. <c>{"id":"{canary}","user":{"id":"u3"},"likes":12}</c>. Empty: no canaries on the route.
    /// </summary>
    public string? Template { get; set; }

    /// <summary>Text before the derived part of the id (<c>post-</c>); choose one real ids never take.</summary>
    [StringLength(64)]
    public string IdPrefix { get; set; } = "";

    /// <summary>0: the derived part is 16 lowercase hex digits; 10 to 19: that many decimal digits (for numeric ids).</summary>
    [Range(0, 19)]
    public int IdDigits { get; set; }

    public bool Enabled => !string.IsNullOrEmpty(Template);
}

/// <summary>One plan's licence terms (<c>Gateway:Compliance:Plans:{plan}</c>) and the thresholds its flags are raised at.</summary>
public sealed class PlanComplianceOptions
{
    /// <summary>
    /// Purposes a key on this plan may declare (<c>display</c>, <c>analytics</c>, <c>research</c>, <c>ai-training</c>, …);
    /// the first is the default. None configured: <see cref="DefaultPurposes"/> (a list default would be appended to by binding).
    /// </summary>
    public List<string> Purposes { get; set; } = [];

    public static readonly IReadOnlyList<string> DefaultPurposes = [LicencePurposes.Display, LicencePurposes.Analytics, LicencePurposes.Research];

    public IReadOnlyList<string> PurposesOrDefault => Purposes.Count == 0 ? DefaultPurposes : Purposes;

    public bool Redistribution { get; set; }

    /// <summary>Records a key may receive per UTC day; 0: no cap. Stored with the key's terms; at the cap further calls are refused 429 <c>record-cap-reached</c> until the next UTC midnight.</summary>
    [Range(0, long.MaxValue)]
    public long DailyRecordCap { get; set; }

    /// <summary>Distinct client networks (/24 IPv4, /64 IPv6) one key may be used from in one hour.</summary>
    [Range(1, 4096)]
    public int MaxClientNetworks { get; set; } = 8;

    /// <summary>Distinct user agents one key may be used with in one hour.</summary>
    [Range(1, 4096)]
    public int MaxUserAgents { get; set; } = 16;

    [Range(0, 36500)]
    public int RetentionDays { get; set; } = 30;

    public DetectionThresholds Detection { get; set; } = new();
}

/// <summary>When the detection job raises a flag for a key on the plan (<c>Gateway:Compliance:Plans:{plan}:Detection</c>).</summary>
public sealed class DetectionThresholds
{
    /// <summary>Calls to route groups outside the licence, within the scan window, that raise <c>unlicensed_route</c>.</summary>
    [Range(1, int.MaxValue)]
    public int UnlicensedRouteAttempts { get; set; } = 3;

    /// <summary>Calls with the key after it was revoked or suspended that raise <c>use_after_revocation</c>.</summary>
    [Range(1, int.MaxValue)]
    public int AttemptsAfterRevocation { get; set; } = 3;

    /// <summary>Calls refused for an exhausted quota (blocking plans) that raise <c>over_quota</c>.</summary>
    [Range(1, int.MaxValue)]
    public int CallsAfterExhaustion { get; set; } = 20;

    /// <summary>
    /// Billing plans (<c>OverQuota=Bill</c>): <c>over_quota</c> is raised when a key's billable calls this UTC month
    /// exceed this multiple of the plan's included calls (<c>MonthlyQuota</c>); 3: three times the calls the plan includes.
    /// </summary>
    [Range(1.0, 1000.0)]
    public double OverQuotaBillMultiple { get; set; } = 3;

    /// <summary>Hours of the last 24 a key must be active in to count as round-the-clock for <c>bulk_harvesting</c>.</summary>
    [Range(1, 24)]
    public int RoundTheClockHours { get; set; } = 20;

    /// <summary>Calls within the scan window a round-the-clock key must also have made for <c>bulk_harvesting</c>.</summary>
    [Range(1, long.MaxValue)]
    public long HarvestingCalls { get; set; } = 1_000;

    /// <summary>Or: records delivered within the scan window (volume) a round-the-clock key must have received for <c>bulk_harvesting</c>.</summary>
    [Range(1, long.MaxValue)]
    public long HarvestingRecords { get; set; } = 100_000;

    /// <summary>Or: distinct records (breadth, estimated ±1.6 %) within the scan window for <c>bulk_harvesting</c>.</summary>
    [Range(1, long.MaxValue)]
    public long HarvestingDistinctRecords { get; set; } = 50_000;

    /// <summary>Declared purposes for which round-the-clock volume is inconsistent (people look at displays; machines build corpora). None configured: <c>display</c>.</summary>
    public List<string> DaytimePurposes { get; set; } = [];

    public IReadOnlyList<string> DaytimePurposesOrDefault => DaytimePurposes.Count == 0 ? [LicencePurposes.Display] : DaytimePurposes;
}
