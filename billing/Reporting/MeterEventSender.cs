using System.Globalization;
using System.Net;
using Gateway.Core.Usage;
using Microsoft.Extensions.Options;
using Polly;
using Polly.Retry;
using Stripe;
using Stripe.Billing;

namespace Gateway.Billing.Reporting;

/// <summary>One hour's meter event: <see cref="Value"/> billable calls for a Stripe customer, named by its deterministic identifier.</summary>
public sealed record MeterEventToSend(string Identifier, string StripeCustomerId, DateTimeOffset Timestamp, long Value);

[System.Text.Json.Serialization.JsonConverter(typeof(System.Text.Json.Serialization.JsonStringEnumConverter<DeliveryOutcome>))]
public enum DeliveryOutcome
{
    /// <summary>Stripe accepted the event.</summary>
    Accepted,

    /// <summary>Stripe already has an event with this identifier (an earlier attempt got through): delivered.</summary>
    AlreadyAccepted,

    /// <summary>Still failing after every retry (429, 5xx, timeouts, dropped connections): sent again next run.</summary>
    Failed,

    /// <summary>Stripe refused the event for good (e.g. older than 35 days): kept for reconciliation, never dropped silently.</summary>
    Refused,
}

public sealed record Delivery(DeliveryOutcome Outcome, string? Error = null)
{
    public bool Delivered => Outcome is DeliveryOutcome.Accepted or DeliveryOutcome.AlreadyAccepted;
}

/// <summary>
/// Sends meter events through Stripe.net (its own retries, with one Idempotency-Key per request) inside a Polly
/// retry pipeline (exponential backoff with jitter, a 429's Retry-After honoured) for what Stripe.net gives up on.
/// </summary>
public sealed class MeterEventSender
{
    /// <summary>
    /// A pending event older than this is resent only after Stripe's meter summary shows it did not land. Half of
    /// Stripe's identifier window (about 24 hours, after which a resend is no longer refused as a duplicate): earlier,
    /// a resend of an event that landed is refused anyway; later, the summary has long settled.
    /// </summary>
    public static readonly TimeSpan ConfirmBeforeResendAfter = TimeSpan.FromHours(12);

    private readonly MeterEventService _events;
    private readonly MeterService _meters;
    private readonly MeterEventSummaryService _summaries;
    private string? _meterId;
    private readonly ResiliencePipeline _pipeline;
    private readonly string _eventName;

    public MeterEventSender(IStripeClient client, IOptions<BillingOptions> options)
    {
        _events = new MeterEventService(client);
        _meters = new MeterService(client);
        _summaries = new MeterEventSummaryService(client);
        _eventName = options.Value.MeterEventName;
        // Backoff waits real time (as Stripe.net's own retries and the HTTP timeout do); the job's injected clock only
        // decides which hours are reported.
        _pipeline = new ResiliencePipelineBuilder { TimeProvider = TimeProvider.System }
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<StripeException>(IsTransient).Handle<HttpRequestException>().Handle<IOException>()
                    .Handle<OperationCanceledException>(e => e is TaskCanceledException { InnerException: TimeoutException } || e.InnerException is TimeoutException),
                MaxRetryAttempts = options.Value.MaxRetryAttempts,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = options.Value.RetryBaseDelay,
                MaxDelay = TimeSpan.FromMinutes(1),
                DelayGenerator = args => ValueTask.FromResult(RetryAfter(args.Outcome.Exception)),
            })
            .Build();
    }

    public async Task<Delivery> SendAsync(MeterEventToSend meterEvent, CancellationToken cancellationToken)
    {
        var create = new MeterEventCreateOptions
        {
            EventName = _eventName,
            Identifier = meterEvent.Identifier,
            Timestamp = meterEvent.Timestamp.UtcDateTime,
            Payload = new Dictionary<string, string>
            {
                ["stripe_customer_id"] = meterEvent.StripeCustomerId,
                ["value"] = meterEvent.Value.ToString(CultureInfo.InvariantCulture),
            },
        };
        try
        {
            await _pipeline.ExecuteAsync(async token => await _events.CreateAsync(create, cancellationToken: token), cancellationToken);
            return new Delivery(DeliveryOutcome.Accepted);
        }
        catch (StripeException e) when (e.StripeError?.Code == "resource_already_exists")
        {
            return new Delivery(DeliveryOutcome.AlreadyAccepted);
        }
        catch (StripeException e) when (!IsTransient(e))
        {
            return new Delivery(DeliveryOutcome.Refused, $"{(int)e.HttpStatusCode} {e.StripeError?.Code}: {e.Message}");
        }
        catch (Exception e) when (e is StripeException or HttpRequestException or IOException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return new Delivery(DeliveryOutcome.Failed, e.Message);
        }
    }

    /// <summary>
    /// What Stripe's meter (the one whose event name is <see cref="BillingOptions.MeterEventName"/>) holds for a
    /// customer per UTC hour in [from, to), from its hourly event summaries; null when there is no such meter or Stripe
    /// could not be read (after the pipeline's retries).
    /// </summary>
    public async Task<Dictionary<int, long>?> AcceptedPerHourAsync(string stripeCustomerId, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken)
    {
        try
        {
            return await _pipeline.ExecuteAsync(async token =>
            {
                if (await MeterIdAsync(token) is not { } meterId)
                {
                    return null;
                }

                var hours = new Dictionary<int, long>();
                var options = new MeterEventSummaryListOptions
                {
                    Customer = stripeCustomerId,
                    StartTime = from.UtcDateTime,
                    EndTime = to.UtcDateTime,
                    ValueGroupingWindow = "hour",
                    Limit = 100,
                };
                await foreach (var summary in _summaries.ListAutoPagingAsync(meterId, options, cancellationToken: token))
                {
                    var hour = UsageCalendar.HourOf(new DateTimeOffset(summary.StartTime, TimeSpan.Zero));
                    hours[hour] = hours.GetValueOrDefault(hour) + (long)summary.AggregatedValue;
                }

                return hours;
            }, cancellationToken);
        }
        catch (Exception e) when (e is StripeException or HttpRequestException or IOException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return null;
        }
    }

    /// <summary>The meter's id, looked up by event name once and kept (a meter's id never changes; two lookups racing write the same id).</summary>
    private async Task<string?> MeterIdAsync(CancellationToken cancellationToken)
    {
        if (_meterId is { } known)
        {
            return known;
        }

        await foreach (var meter in _meters.ListAutoPagingAsync(new MeterListOptions { Limit = 100 }, cancellationToken: cancellationToken))
        {
            if (meter.EventName == _eventName)
            {
                return _meterId = meter.Id;
            }
        }

        return null;
    }

    private static bool IsTransient(StripeException e) =>
        e.HttpStatusCode is HttpStatusCode.TooManyRequests || (int)e.HttpStatusCode >= 500 || e.HttpStatusCode == 0;

    /// <summary>A 429's Retry-After when Stripe sent one; otherwise null (the exponential backoff with jitter).</summary>
    private static TimeSpan? RetryAfter(Exception? exception) =>
        exception is StripeException { HttpStatusCode: HttpStatusCode.TooManyRequests } e && e.StripeResponse?.Headers.RetryAfter?.Delta is { } delta
            ? delta
            : null;
}
