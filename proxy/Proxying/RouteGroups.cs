using Gateway.Core;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Model;

namespace Gateway.Proxy.Proxying;

/// <summary>
/// Route groups are the API products plans license. Every YARP route names its group in its metadata
/// (<c>ReverseProxy:Routes:{id}:Metadata:RouteGroup</c>); start-up refuses a route without one, a route whose group
/// no plan licenses, and a plan that names a group no route has.
/// </summary>
public static class RouteGroups
{
    public const string MetadataKey = "RouteGroup";

    /// <summary>The route group of the route YARP matched for this request.</summary>
    public static string Of(HttpContext context) =>
        context.GetRouteModel().Config.Metadata?.GetValueOrDefault(MetadataKey) ?? "";

    /// <summary>Checks routes and plans against each other, naming the bad setting.</summary>
    public sealed class Validator(IConfiguration configuration) : IValidateOptions<GatewayOptions>
    {
        public ValidateOptionsResult Validate(string? name, GatewayOptions options)
        {
            var failures = new List<string>();
            var groups = new HashSet<string>(StringComparer.Ordinal);
            var routes = configuration.GetSection("ReverseProxy:Routes").GetChildren().ToList();
            if (routes.Count == 0)
            {
                failures.Add("ReverseProxy:Routes must define at least one route.");
            }

            foreach (var route in routes)
            {
                var group = route[$"Metadata:{MetadataKey}"];
                if (string.IsNullOrWhiteSpace(group) || !GatewayOptionsValidator.Name().IsMatch(group))
                {
                    failures.Add($"ReverseProxy:Routes:{route.Key}:Metadata:{MetadataKey} must name the route's group (lowercase letters, digits, '-'); was '{group}'.");
                    continue;
                }

                groups.Add(group);
            }

            foreach (var route in routes)
            {
                var group = route[$"Metadata:{MetadataKey}"];
                if (group is not null && groups.Contains(group) && !options.Plans.Values.Any(p => p.RouteGroups.Contains(group)))
                {
                    failures.Add($"ReverseProxy:Routes:{route.Key}:Metadata:{MetadataKey} '{group}' is licensed by no plan in Gateway:Plans, so no key could ever call it.");
                }
            }

            foreach (var (planName, plan) in options.Plans)
            {
                for (var i = 0; i < plan.RouteGroups.Count; i++)
                {
                    if (routes.Count > 0 && !groups.Contains(plan.RouteGroups[i]))
                    {
                        failures.Add($"Gateway:Plans:{planName}:RouteGroups:{i} '{plan.RouteGroups[i]}' is not the route group of any route in ReverseProxy:Routes (known: {string.Join(", ", groups.Order())}).");
                    }
                }
            }

            return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
        }
    }
}
