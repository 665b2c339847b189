using System.Globalization;
using Azure;
using Azure.Data.Tables;
using Gateway.Core.Keys;
using Gateway.Core.Plans;
using Gateway.Core.Problems;
using Gateway.Core.Storage;

namespace Gateway.Core.Customers;

/// <summary>A customer's monthly spend cap: at most this much per key and UTC month, in the plans' currency; null: no cap.</summary>
public sealed record SpendCapSetting(string CustomerId, decimal? MonthlyCap);

/// <summary>
/// What a spend cap allows: the most billable calls a key may make in a month before its invoice would pass the cap.
/// The gateway enforces the cap as this ceiling on the key's exact quota count, so it costs nothing per call.
/// </summary>
public static class SpendCap
{
    /// <summary>The largest cap accepted.</summary>
    public const decimal Max = 100_000_000m;

    /// <summary>
    /// The most billable calls a key on <paramref name="plan"/> may make in a month under <paramref name="cap"/>: the
    /// included calls plus floor((cap − plan price) ÷ overage price per call). <see cref="long.MaxValue"/> when nothing
    /// bounds them here: no cap, a blocking plan (its own quota does) or free overage. A cap below the plan's price
    /// allows the included calls only (the plan's price is not overage). With the cap in whole cents, the overage line
    /// rounded to cents never passes cap − price.
    /// </summary>
    public static long Ceiling(Plan plan, decimal? cap)
    {
        if (cap is not { } monthly || plan.OverQuota != OverQuotaBehaviour.Bill || plan.OveragePricePerThousand <= 0)
        {
            return long.MaxValue;
        }

        var budget = monthly - plan.PricePerMonth;
        if (budget <= 0)
        {
            return plan.MonthlyQuota;
        }

        var overage = decimal.Floor(budget * 1000m / plan.OveragePricePerThousand);
        return overage >= long.MaxValue - plan.MonthlyQuota ? long.MaxValue : plan.MonthlyQuota + (long)overage;
    }

    /// <summary>Null when <paramref name="cap"/> is a cap the gateway accepts: none, or 0 to <see cref="Max"/> in whole cents.</summary>
    public static ApiProblem? Check(decimal? cap) => cap switch
    {
        null => null,
        < 0 => ApiProblem.Invalid("monthlyCap", "must be 0 or more (null removes the cap)."),
        > Max => ApiProblem.Invalid("monthlyCap", $"must be at most {Max.ToString(CultureInfo.InvariantCulture)}."),
        { } c when c.Scale > 2 && decimal.Round(c, 2) != c => ApiProblem.Invalid("monthlyCap", "must be in whole cents (at most two decimals)."),
        _ => null,
    };
}

/// <summary>
/// Spend caps in the customer's row of the Customers table (property <c>SpendCap</c>, invariant text), so removing
/// the customer removes its cap. The gateway reads it with a key (<see cref="ReadAsync"/>); changes go through
/// <see cref="SpendCapService"/>.
/// </summary>
public sealed class SpendCaps(GatewayTables tables)
{
    private const string RowKey = "customer";
    private const string Property = "SpendCap";

    /// <summary>The customer's cap; null when it has none or does not exist. One point read of one property.</summary>
    public async Task<decimal?> ReadAsync(string customerId, CancellationToken cancellationToken)
    {
        var response = await tables.Customers.GetEntityIfExistsAsync<TableEntity>(customerId, RowKey, [Property], cancellationToken);
        return response.HasValue ? Parse(response.Value!) : null;
    }

    /// <summary>The customer's setting; null when the customer does not exist.</summary>
    public async Task<SpendCapSetting?> FindAsync(string customerId, CancellationToken cancellationToken)
    {
        var response = await tables.Customers.GetEntityIfExistsAsync<TableEntity>(customerId, RowKey, cancellationToken: cancellationToken);
        return response.HasValue ? new SpendCapSetting(customerId, Parse(response.Value!)) : null;
    }

    /// <summary>Stores (or with null removes) the cap on the customer's row; false when the customer does not exist.</summary>
    public async Task<bool> StoreAsync(string customerId, decimal? cap, CancellationToken cancellationToken)
    {
        while (true)
        {
            var response = await tables.Customers.GetEntityIfExistsAsync<TableEntity>(customerId, RowKey, cancellationToken: cancellationToken);
            if (!response.HasValue)
            {
                return false;
            }

            var entity = response.Value!;
            if (cap is { } value)
            {
                entity[Property] = value.ToString("0.00", CultureInfo.InvariantCulture);
            }
            else
            {
                entity.Remove(Property);
            }

            try
            {
                // Conditional on the row read: a customer deleted meanwhile is not brought back, a concurrent rename is kept.
                await tables.Customers.UpdateEntityAsync(entity, entity.ETag, TableUpdateMode.Replace, cancellationToken);
                return true;
            }
            catch (RequestFailedException e) when (e.Status is 404 or 412)
            {
                // Read again: gone (false next time round) or changed meanwhile (the cap goes onto the newer row).
            }
        }
    }

    private static decimal? Parse(TableEntity entity) =>
        entity.GetString(Property) is { } text && decimal.TryParse(text, NumberStyles.Number, CultureInfo.InvariantCulture, out var cap) ? cap : null;
}

/// <summary>
/// Reads and changes spend caps for the admin API. Input is checked before any storage access. A change is stored,
/// then published as a key change for each of the customer's keys still in use, the way a plan change is: every
/// gateway drops those keys from its cache and re-reads them (and the cap with them) at their next call.
/// </summary>
public sealed class SpendCapService(SpendCaps caps, IApiKeyStore keys, IKeyChangePublisher publisher, TimeProvider time)
{
    public async Task<Outcome<SpendCapSetting>> GetAsync(string customerId, CancellationToken cancellationToken) =>
        CustomerIds.IsWellFormed(customerId) && await caps.FindAsync(customerId, cancellationToken) is { } setting
            ? setting
            : ApiProblem.NotFound("Customer", customerId);

    /// <summary>Sets (or with null removes) the cap, then publishes a key change for each of the customer's live keys.</summary>
    public async Task<Outcome<SpendCapSetting>> SetAsync(string customerId, decimal? cap, CancellationToken cancellationToken)
    {
        if (!CustomerIds.IsWellFormed(customerId))
        {
            return ApiProblem.NotFound("Customer", customerId);
        }

        if (SpendCap.Check(cap) is { } invalid)
        {
            return invalid;
        }

        var monthly = cap is { } value ? decimal.Round(value, 2) : (decimal?)null;
        if (!await caps.StoreAsync(customerId, monthly, cancellationToken))
        {
            return ApiProblem.NotFound("Customer", customerId);
        }

        var now = time.GetUtcNow();
        foreach (var key in await keys.ListByCustomerAsync(customerId, cancellationToken))
        {
            if (key.IsLive(now))
            {
                await publisher.PublishAsync(new KeyChange(key.Id, customerId, KeyChangeReasons.SpendCapChanged, now), cancellationToken);
            }
        }

        return new SpendCapSetting(customerId, monthly);
    }
}
