using System.Globalization;
using Gateway.Core.Plans;
using Plan = Gateway.Core.Plans.Plan;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Stripe;
using Stripe.Billing;

namespace Gateway.Billing.Catalog;

/// <summary>One change (or non-change) the catalog sync made in Stripe.</summary>
public sealed record CatalogChange(string Kind, string Name, string Action, string StripeId);

/// <summary>What a catalog sync did: every object it looked at, and whether it created, replaced, updated or left it.</summary>
public sealed record CatalogSyncRun(IReadOnlyList<CatalogChange> Changes)
{
    public int Changed => Changes.Count(c => c.Action != CatalogActions.Unchanged);
}

public static class CatalogActions
{
    public const string Created = "created";
    public const string Updated = "updated";

    /// <summary>A price's amount or terms changed: Stripe prices are immutable, so a new one took over the lookup key.</summary>
    public const string Replaced = "replaced";

    public const string Unchanged = "unchanged";
}

/// <summary>
/// Plans as code → Stripe: one Billing Meter for API calls (sum of <c>value</c>, customers by
/// <c>stripe_customer_id</c>), and per plan a product (id <c>gw-plan-{plan}</c>), a monthly licensed price
/// (lookup key <c>{plan}.monthly</c>: <see cref="Plan.PricePerMonth"/>) and, for plans that bill beyond the quota, a
/// metered price on the meter (lookup key <c>{plan}.overage</c>: graduated, the first <see cref="Plan.MonthlyQuota"/>
/// calls free, then <see cref="Plan.OveragePricePerThousand"/> per 1,000). Idempotent: objects are found by id, event
/// name and lookup key, so a rerun changes nothing; a changed price is replaced (a new price takes the lookup key,
/// as Stripe prices cannot change). The webhooks map a subscription's price back to its plan by the lookup key's
/// first segment. Included calls are per subscription item in Stripe; the gateway's quota is per key, so one
/// subscription per key matches the invoice preview exactly (see README).
/// </summary>
public sealed class CatalogSync(PlanCatalog plans, IServiceProvider services, IOptions<BillingOptions> options)
{
    public static string ProductId(string plan) => $"gw-plan-{plan}";

    public static string MonthlyLookupKey(string plan) => $"{plan}.monthly";

    public static string OverageLookupKey(string plan) => $"{plan}.overage";

    public async Task<CatalogSyncRun> RunAsync(CancellationToken cancellationToken)
    {
        var client = services.GetRequiredService<IStripeClient>();
        var changes = new List<CatalogChange>();
        var meter = await EnsureMeterAsync(new MeterService(client), changes, cancellationToken);
        var products = new ProductService(client);
        var prices = new PriceService(client);
        foreach (var plan in plans.All)
        {
            await EnsureProductAsync(products, plan, changes, cancellationToken);
            await EnsurePriceAsync(prices, MonthlyLookupKey(plan.Name), Monthly(plan), changes, cancellationToken);
            if (plan.OverQuota == OverQuotaBehaviour.Bill)
            {
                await EnsurePriceAsync(prices, OverageLookupKey(plan.Name), Overage(plan, meter.Id), changes, cancellationToken);
            }
        }

        return new CatalogSyncRun(changes);
    }

    private async Task<Meter> EnsureMeterAsync(MeterService meters, List<CatalogChange> changes, CancellationToken cancellationToken)
    {
        var eventName = options.Value.MeterEventName;
        await foreach (var existing in meters.ListAutoPagingAsync(new MeterListOptions { Limit = 100 }, cancellationToken: cancellationToken))
        {
            if (existing.EventName == eventName)
            {
                changes.Add(new CatalogChange("meter", eventName, CatalogActions.Unchanged, existing.Id));
                return existing;
            }
        }

        var meter = await meters.CreateAsync(new MeterCreateOptions
        {
            DisplayName = "API calls",
            EventName = eventName,
            DefaultAggregation = new MeterDefaultAggregationOptions { Formula = "sum" },
            CustomerMapping = new MeterCustomerMappingOptions { EventPayloadKey = "stripe_customer_id", Type = "by_id" },
            ValueSettings = new MeterValueSettingsOptions { EventPayloadKey = "value" },
        }, cancellationToken: cancellationToken);
        changes.Add(new CatalogChange("meter", eventName, CatalogActions.Created, meter.Id));
        return meter;
    }

    private static async Task EnsureProductAsync(ProductService products, Plan plan, List<CatalogChange> changes, CancellationToken cancellationToken)
    {
        var id = ProductId(plan.Name);
        Product? existing = null;
        try
        {
            existing = await products.GetAsync(id, cancellationToken: cancellationToken);
        }
        catch (StripeException e) when (e.HttpStatusCode == System.Net.HttpStatusCode.NotFound)
        {
        }

        if (existing is null)
        {
            await products.CreateAsync(new ProductCreateOptions { Id = id, Name = plan.DisplayName, Description = $"Gateway plan '{plan.Name}'" }, cancellationToken: cancellationToken);
            changes.Add(new CatalogChange("product", plan.Name, CatalogActions.Created, id));
        }
        else if (existing.Name != plan.DisplayName || !existing.Active)
        {
            await products.UpdateAsync(id, new ProductUpdateOptions { Name = plan.DisplayName, Active = true }, cancellationToken: cancellationToken);
            changes.Add(new CatalogChange("product", plan.Name, CatalogActions.Updated, id));
        }
        else
        {
            changes.Add(new CatalogChange("product", plan.Name, CatalogActions.Unchanged, id));
        }
    }

    /// <summary>The price the plan wants under a lookup key: the same terms → unchanged; other terms → a new price takes the key over.</summary>
    private static async Task EnsurePriceAsync(PriceService prices, string lookupKey, PriceCreateOptions wanted, List<CatalogChange> changes, CancellationToken cancellationToken)
    {
        var found = await prices.ListAsync(new PriceListOptions { LookupKeys = [lookupKey], Active = true, Expand = ["data.tiers"] }, cancellationToken: cancellationToken);
        var existing = found.Data.FirstOrDefault();
        if (existing is not null && Same(existing, wanted))
        {
            changes.Add(new CatalogChange("price", lookupKey, CatalogActions.Unchanged, existing.Id));
            return;
        }

        wanted.LookupKey = lookupKey;
        wanted.TransferLookupKey = existing is not null;
        var created = await prices.CreateAsync(wanted, cancellationToken: cancellationToken);
        changes.Add(new CatalogChange("price", lookupKey, existing is null ? CatalogActions.Created : CatalogActions.Replaced, created.Id));
    }

    private PriceCreateOptions Monthly(Plan plan) => new()
    {
        Product = ProductId(plan.Name),
        Currency = options.Value.Currency,
        UnitAmount = Cents(plan.PricePerMonth),
        Recurring = new PriceRecurringOptions { Interval = "month", UsageType = "licensed" },
        Nickname = $"{plan.DisplayName} monthly",
    };

    private PriceCreateOptions Overage(Plan plan, string meterId) => new()
    {
        Product = ProductId(plan.Name),
        Currency = options.Value.Currency,
        Recurring = new PriceRecurringOptions { Interval = "month", UsageType = "metered", Meter = meterId },
        BillingScheme = "tiered",
        TiersMode = "graduated",
        Tiers =
        [
            new PriceTierOptions { UpTo = plan.MonthlyQuota, UnitAmount = 0 },
            new PriceTierOptions { UpTo = PriceTierUpTo.Inf, UnitAmountDecimal = plan.OveragePricePerThousand * 100m / 1000m },
        ],
        Nickname = $"{plan.DisplayName} calls beyond {plan.MonthlyQuota.ToString("N0", CultureInfo.InvariantCulture)}",
    };

    private static long Cents(decimal amount) => (long)Math.Round(amount * 100m, MidpointRounding.AwayFromZero);

    private static bool Same(Price existing, PriceCreateOptions wanted)
    {
        if (existing.Currency != wanted.Currency || existing.Recurring?.Interval != wanted.Recurring?.Interval
            || existing.Recurring?.UsageType != wanted.Recurring?.UsageType || existing.Recurring?.Meter != wanted.Recurring?.Meter)
        {
            return false;
        }

        if (wanted.Tiers is null)
        {
            return existing.BillingScheme != "tiered" && existing.UnitAmount == wanted.UnitAmount;
        }

        return existing.BillingScheme == "tiered" && existing.TiersMode == wanted.TiersMode && existing.Tiers is { } tiers && tiers.Count == wanted.Tiers.Count
            && tiers[0].UpTo == FirstTierUpTo(wanted) && (tiers[0].UnitAmountDecimal ?? tiers[0].UnitAmount ?? 0) == 0
            && tiers[1].UpTo is null && (tiers[1].UnitAmountDecimal ?? tiers[1].UnitAmount) == wanted.Tiers[1].UnitAmountDecimal;

        static long? FirstTierUpTo(PriceCreateOptions w) => w.Tiers![0].UpTo is { } upTo && upTo.Value is long l ? l : null;
    }
}
