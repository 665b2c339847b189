using System.Globalization;
using Gateway.Core.Customers;
using Gateway.Core.Keys;
using Gateway.Core.Plans;
using Gateway.Core.Problems;
using Gateway.Core.Usage;
using Gateway.Core.Validation;
using Microsoft.Extensions.Options;

namespace Gateway.Billing.Invoices;

/// <summary>One line of an invoice preview: a key's plan for the month, or its calls beyond the included ones.</summary>
public sealed record InvoiceLine(string KeyId, string DisplayPrefix, string Plan, string Kind, string Description, long Quantity, decimal UnitAmount, decimal Amount);

/// <summary>
/// What a customer's invoice for a period will say, computed from the usage ledger and the plans' prices (no Stripe
/// involved): per key live in the period, the plan's monthly price, and for plans that bill beyond the quota, the
/// billable calls above the included ones at the overage price. <see cref="BillableCalls"/> is billing's definition
/// (the calls reported to Stripe), so the preview and the meter events count the same calls.
/// </summary>
public sealed record InvoicePreview(
    string CustomerId,
    string Period,
    string Currency,
    bool DryRun,
    long BillableCalls,
    long IncludedCalls,
    long OverageCalls,
    IReadOnlyList<InvoiceLine> Lines,
    decimal Total,
    DateTimeOffset ComputedAt);

/// <summary>
/// Builds <see cref="InvoicePreview"/>s. Usage is exact at the moment of the preview (the ledger plus this process's
/// unflushed counts, as the usage API reads it), so a preview matches the usage page. Pricing rules:
/// <list type="bullet">
/// <item>a key is charged its plan's <see cref="Plan.PricePerMonth"/> when it was live for any part of the month
/// (created before the month ends; not revoked or expired before it began); its plan is the plan it has now;</item>
/// <item>included calls and overage are per key, as the quota is (<see cref="Plan.MonthlyQuota"/>): a key on a plan
/// that bills beyond the quota pays <see cref="Plan.OveragePricePerThousand"/> per 1,000 billable calls above it,
/// pro rata per call, rounded to cents at the line; a blocking plan never has overage.</item>
/// </list>
/// </summary>
public sealed class InvoicePreviewer(
    ICustomerStore customers,
    IApiKeyStore keys,
    PlanCatalog plans,
    UsageReporter usage,
    IOptions<StripeOptions> stripe,
    IOptions<BillingOptions> options,
    TimeProvider time)
{
    public const string PlanLine = "plan";
    public const string OverageLine = "overage";

    public async Task<Outcome<InvoicePreview>> PreviewAsync(string? customerId, string? period, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (InputRules.CustomerId("customerId", customerId) is { } invalid)
        {
            return invalid;
        }

        var parsed = BillingPeriod.Parse(period, now);
        if (!parsed.Succeeded)
        {
            return parsed.Problem!;
        }

        if (await customers.FindAsync(customerId!, cancellationToken) is null)
        {
            return ApiProblem.NotFound("Customer", customerId!);
        }

        var month = parsed.Value;
        var billedPerKey = new Dictionary<string, long>(StringComparer.Ordinal);
        var customerKeys = await keys.ListByCustomerAsync(customerId!, cancellationToken);
        var billable = BillableCalls.Of(customerKeys, plans);
        foreach (var ((cell, _), count) in await usage.CountsAsync(customerId!, month.FromHour, month.ToHour, cancellationToken))
        {
            if (billable.IsBilled(cell))
            {
                billedPerKey[cell.KeyId] = billedPerKey.GetValueOrDefault(cell.KeyId) + count;
            }
        }

        var lines = new List<InvoiceLine>();
        long included = 0, overage = 0;
        foreach (var key in customerKeys.OrderBy(k => k.CreatedAt).ThenBy(k => k.Id, StringComparer.Ordinal))
        {
            var calls = billedPerKey.GetValueOrDefault(key.Id);
            if (!WasLive(key, month) && calls == 0 || !plans.TryGet(key.Plan, out var plan))
            {
                continue;
            }

            included += plan.MonthlyQuota;
            lines.Add(new InvoiceLine(key.Id, key.DisplayPrefix, plan.Name, PlanLine, string.Create(CultureInfo.InvariantCulture, $"{plan.DisplayName} plan, {month}"), 1, plan.PricePerMonth, plan.PricePerMonth));
            var beyond = Math.Max(0, calls - plan.MonthlyQuota);
            if (plan.OverQuota == OverQuotaBehaviour.Bill && beyond > 0)
            {
                overage += beyond;
                var unit = plan.OveragePricePerThousand / 1000m;
                lines.Add(new InvoiceLine(key.Id, key.DisplayPrefix, plan.Name, OverageLine, string.Create(CultureInfo.InvariantCulture, $"{beyond:N0} calls above the {plan.MonthlyQuota:N0} included"), beyond, unit, Math.Round(beyond * unit, 2, MidpointRounding.AwayFromZero)));
            }
        }

        return new InvoicePreview(customerId!, month.ToString(), options.Value.Currency, !stripe.Value.Enabled, billedPerKey.Values.Sum(), included, overage, lines, lines.Sum(l => l.Amount), now);
    }

    /// <summary>Live for some part of the month: created before it ends, not revoked or expired before it began.</summary>
    public static bool WasLive(ApiKeyRecord key, BillingPeriod month) =>
        key.CreatedAt < month.End
        && !(key.Status == ApiKeyStatus.Revoked && key.StatusChangedAt < month.Start)
        && !(key.ExpiresAt < month.Start);
}
