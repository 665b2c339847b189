using System.Text.RegularExpressions;
using Gateway.Core.Plans;
using Microsoft.Extensions.Options;

namespace Gateway.Core;

/// <summary>
/// Checks the parts of <see cref="GatewayOptions"/> that data annotations cannot, naming the bad setting: the plans
/// (a dictionary, whose keys are part of every message) and settings that depend on each other. Single settings are
/// checked by their annotations (<see cref="GatewayOptionsAnnotations"/>).
/// </summary>
public sealed partial class GatewayOptionsValidator : IValidateOptions<GatewayOptions>
{
    public ValidateOptionsResult Validate(string? name, GatewayOptions options)
    {
        var failures = new List<string>();
        if (options.Plans.Count == 0)
        {
            failures.Add("Gateway:Plans must define at least one plan.");
        }

        foreach (var (planName, plan) in options.Plans)
        {
            var at = $"Gateway:Plans:{planName}";
            if (!Name().IsMatch(planName))
            {
                failures.Add($"{at}: plan names must be lowercase letters, digits and '-'.");
            }

            if (!(plan.RequestsPerSecond > 0) || double.IsInfinity(plan.RequestsPerSecond))
            {
                failures.Add($"{at}:RequestsPerSecond must be greater than 0 (was {plan.RequestsPerSecond}).");
            }

            if (plan.MaxKeys < 1)
            {
                failures.Add($"{at}:MaxKeys must be at least 1 (was {plan.MaxKeys}).");
            }

            if (plan.Burst < 1)
            {
                failures.Add($"{at}:Burst must be at least 1 (was {plan.Burst}).");
            }

            if (!Enum.TryParse<OverQuotaBehaviour>(plan.OverQuota, ignoreCase: true, out var overQuota) || !Enum.IsDefined(overQuota))
            {
                failures.Add($"{at}:OverQuota must be 'Block' or 'Bill' (was '{plan.OverQuota}').");
            }

            if (plan.MonthlyQuota < 0)
            {
                failures.Add($"{at}:MonthlyQuota must not be negative (was {plan.MonthlyQuota}).");
            }

            if (plan.PricePerMonth < 0 || plan.OveragePricePerThousand < 0)
            {
                failures.Add($"{at}: prices must not be negative.");
            }

            if (plan.RouteGroups.Count == 0)
            {
                failures.Add($"{at}:RouteGroups must name at least one route group.");
            }

            for (var i = 0; i < plan.RouteGroups.Count; i++)
            {
                if (!Name().IsMatch(plan.RouteGroups[i] ?? ""))
                {
                    failures.Add($"{at}:RouteGroups:{i} '{plan.RouteGroups[i]}' must be lowercase letters, digits and '-'.");
                }
            }

            if (BillableOutcomes.Parse(plan.Billable, out var billableError) is null)
            {
                failures.Add($"{at}:Billable{billableError}");
            }
        }

        if (options.Keys.MaxStaleness is { } maxStaleness && (maxStaleness < options.Keys.CacheRefresh || maxStaleness > TimeSpan.FromDays(30)))
        {
            failures.Add($"Gateway:Keys:MaxStaleness must be between Gateway:Keys:CacheRefresh ({options.Keys.CacheRefresh}) and 30.00:00:00, or unset to serve keys in memory through any storage outage (was {maxStaleness}).");
        }

        if (options.Storage.ConnectionString is null && options.Storage.TableEndpoint is null)
        {
            failures.Add("Gateway:Storage: set either ConnectionString (Azurite, development) or TableEndpoint (Azure, managed identity).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    /// <summary>The shape of plan and route-group names: lowercase letters, digits and '-', at most 32.</summary>
    [GeneratedRegex("^[a-z0-9][a-z0-9-]{0,31}$")]
    public static partial Regex Name();
}
