using System.ComponentModel.DataAnnotations;

namespace Gateway.Billing;

/// <summary>Stripe access (<c>Gateway:Stripe</c>). No secret key: billing is a dry run and nothing is sent.</summary>
public sealed class StripeOptions
{
    public const string Section = "Gateway:Stripe";

    /// <summary>A secret key (<c>sk_test_…</c> or <c>sk_live_…</c>); Key Vault in production, never in a file.</summary>
    public string? SecretKey { get; set; }

    /// <summary>Stripe's API by default; a test server's base URL (stripe-test-server/) in tests.</summary>
    public string? ApiBase { get; set; }

    /// <summary>Stripe.net's own retries of one request (network errors, 409, 5xx when Stripe allows), with its Idempotency-Key.</summary>
    [Range(0, 10)]
    public int MaxNetworkRetries { get; set; } = 2;

    /// <summary>How long one request may take before it counts as failed (and is retried).</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:05:00")]
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The webhook endpoint's signing secret (<c>whsec_…</c>); Key Vault in production. Unset: webhooks are refused (503).</summary>
    public string? WebhookSecret { get; set; }

    /// <summary>How far a webhook's signed timestamp may lie from the injected clock (Stripe's default: 5 minutes).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan WebhookTolerance { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Refuse (400) events whose <c>api_version</c> is not the one Stripe.net 53.1.0 reads (2026-10-28.endive).
    /// On by default: an endpoint created for another API version sends objects of another shape.
    /// </summary>
    public bool ApiVersionCheck { get; set; } = true;

    public bool Enabled => !string.IsNullOrWhiteSpace(SecretKey);
}

/// <summary>The usage-reporting job (<c>Gateway:Billing</c>).</summary>
public sealed class BillingOptions
{
    public const string Section = "Gateway:Billing";

    /// <summary>How often the gateway (single-node) and the timer function report usage.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan ReportInterval { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>The event name of the meter the catalog sync creates (sum aggregation).</summary>
    [Required]
    [StringLength(100, MinimumLength = 1)]
    public string MeterEventName { get; set; } = "api_calls";

    /// <summary>
    /// How far back each run looks for usage not yet reported (late flushes, an outage of the job). At most 34 days:
    /// Stripe refuses meter events older than 35 days.
    /// </summary>
    [Range(typeof(TimeSpan), "01:00:00", "34.00:00:00")]
    public TimeSpan Lookback { get; set; } = TimeSpan.FromDays(3);

    /// <summary>The currency of the plans' prices (ISO 4217, lower case as Stripe writes it).</summary>
    [Required]
    [RegularExpression("^[a-z]{3}$")]
    public string Currency { get; set; } = "usd";

    /// <summary>Retries of one meter event by the resilience pipeline after Stripe.net's own, on 429, 5xx and timeouts.</summary>
    [Range(0, 20)]
    public int MaxRetryAttempts { get; set; } = 6;

    /// <summary>The first backoff delay; it doubles with each retry, with jitter, and a 429's Retry-After is honoured.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:01:00")]
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// After <c>invoice.payment_failed</c>, how long the customer's keys keep working before billing suspends them
    /// (402 at the gateway). Zero suspends at once.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "60.00:00:00")]
    public TimeSpan PaymentFailedGrace { get; set; } = TimeSpan.FromDays(3);
}
