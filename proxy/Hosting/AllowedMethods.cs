using Gateway.ControlPlane.Http;
using Microsoft.AspNetCore.Routing.Template;
using Microsoft.Extensions.Primitives;

namespace Gateway.Proxy.Hosting;

/// <summary>
/// The methods a plane's endpoints accept at a path, for a request that matched no endpoint: when its path is one an
/// endpoint of the port's plane takes with other methods, the answer is 405 with <c>Allow</c>, not 404. The data
/// port never learns the admin plane's paths, nor the admin port the data plane's. Endpoints are compared by route
/// pattern only (constraints, hosts and header matches are not evaluated); the table is rebuilt when the endpoints
/// change (YARP configuration reloads). Only refusals come here, never a call that reached a route.
/// </summary>
public sealed class AllowedMethods
{
    private readonly EndpointDataSource _endpoints;
    private Route[]? _routes;

    public AllowedMethods(EndpointDataSource endpoints)
    {
        _endpoints = endpoints;
        ChangeToken.OnChange(endpoints.GetChangeToken, () => Volatile.Write(ref _routes, null));
    }

    private enum Plane
    {
        Data,
        Admin,
        Any,
    }

    /// <summary>The <c>Allow</c> value for this path on this plane; null when no endpoint takes the path, or takes this method.</summary>
    public string? Allow(PathString path, string method, bool adminPlane)
    {
        var routes = Volatile.Read(ref _routes) ?? Build();
        SortedSet<string>? allowed = null;
        var values = new RouteValueDictionary();
        foreach (var route in routes)
        {
            if (route.Plane != Plane.Any && (route.Plane == Plane.Admin) != adminPlane)
            {
                continue;
            }

            values.Clear();
            if (route.Matcher.TryMatch(path, values))
            {
                allowed ??= new SortedSet<string>(StringComparer.Ordinal);
                allowed.UnionWith(route.Methods);
            }
        }

        return allowed is null || allowed.Contains(method) ? null : string.Join(", ", allowed);
    }

    private Route[] Build()
    {
        var routes = _endpoints.Endpoints
            .OfType<RouteEndpoint>()
            .Where(e => e.Metadata.GetMetadata<IHttpMethodMetadata>() is { HttpMethods.Count: > 0 })
            .Select(e => new Route(
                new TemplateMatcher(new RouteTemplate(e.RoutePattern), new RouteValueDictionary(e.RoutePattern.Defaults)),
                [.. e.Metadata.GetMetadata<IHttpMethodMetadata>()!.HttpMethods.Select(m => m.ToUpperInvariant())],
                e.Metadata.GetMetadata<AnyPlaneMetadata>() is not null ? Plane.Any
                    : e.Metadata.GetMetadata<AdminPlaneEndpoint>() is not null ? Plane.Admin
                    : Plane.Data))
            .ToArray();
        Volatile.Write(ref _routes, routes);
        return routes;
    }

    private sealed record Route(TemplateMatcher Matcher, string[] Methods, Plane Plane);
}
