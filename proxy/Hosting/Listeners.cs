using System.ComponentModel.DataAnnotations;
using System.Net;
using Gateway.ControlPlane.Http;
using Gateway.Proxy.Problems;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.Options;

namespace Gateway.Proxy.Hosting;

/// <summary>The two ports: the data plane API callers reach, and the admin plane only operators reach.</summary>
public sealed class ListenerOptions
{
    public const string Section = "Gateway:Listen";

    /// <summary>Address both ports bind to: "localhost", "any", or an IP address.</summary>
    [Required]
    public string Address { get; set; } = "localhost";

    [Range(1, 65535, ErrorMessage = "Gateway:Listen:DataPort must be a port number (1-65535).")]
    public int DataPort { get; set; } = 8080;

    [Range(1, 65535, ErrorMessage = "Gateway:Listen:AdminPort must be a port number (1-65535).")]
    public int AdminPort { get; set; } = 8081;

    /// <summary>
    /// Proxies (IP addresses or CIDR ranges) whose <c>X-Forwarded-For</c>/<c>-Proto</c> the data port believes, e.g.
    /// the ingress in front of the gateway. Empty (the default): nobody's; the connection's address is the client's.
    /// </summary>
    public List<string> TrustedProxies { get; set; } = [];

    /// <summary>Every entry of <see cref="TrustedProxies"/> that is neither an IP address nor a CIDR range.</summary>
    public IEnumerable<string> InvalidTrustedProxies() =>
        TrustedProxies.Where(p => !IPAddress.TryParse(p, out _) && !System.Net.IPNetwork.TryParse(p, out _));
}

/// <summary>Marks an endpoint served on both ports (health).</summary>
public sealed class AnyPlaneMetadata
{
    public static readonly AnyPlaneMetadata Instance = new();
}

public static class Listeners
{
    /// <summary>Kestrel listens on the data port and the admin port; nothing else.</summary>
    public static WebApplicationBuilder AddGatewayListeners(this WebApplicationBuilder builder)
    {
        var listen = builder.Configuration.GetSection(ListenerOptions.Section).Get<ListenerOptions>() ?? new ListenerOptions();
        var results = new List<ValidationResult>();
        var invalidProxies = listen.InvalidTrustedProxies().ToList();
        if (!Validator.TryValidateObject(listen, new ValidationContext(listen), results, validateAllProperties: true) || listen.DataPort == listen.AdminPort || invalidProxies.Count > 0)
        {
            var messages = results.Select(r => r.ErrorMessage)
                .Append(listen.DataPort == listen.AdminPort ? "Gateway:Listen:DataPort and AdminPort must differ." : null)
                .Append(invalidProxies.Count > 0 ? $"Gateway:Listen:TrustedProxies must be IP addresses or CIDR ranges such as 10.0.0.0/16; not: {string.Join(", ", invalidProxies)}." : null);
            throw new OptionsValidationException(ListenerOptions.Section, typeof(ListenerOptions), [.. messages.OfType<string>()]);
        }

        builder.Services.AddSingleton(Options.Create(listen));
        builder.Services.AddSingleton<AllowedMethods>();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            foreach (var port in new[] { listen.DataPort, listen.AdminPort })
            {
                switch (listen.Address)
                {
                    case "localhost":
                        kestrel.ListenLocalhost(port);
                        break;
                    case "any" or "*" or "0.0.0.0":
                        kestrel.ListenAnyIP(port);
                        break;
                    default:
                        kestrel.Listen(IPAddress.Parse(listen.Address), port);
                        break;
                }
            }
        });
        return builder;
    }

    /// <summary>
    /// The real client address behind an ingress or load balancer: on the data port, <c>X-Forwarded-For</c> and
    /// <c>X-Forwarded-Proto</c> are believed from the peers in <c>Gateway:Listen:TrustedProxies</c> only, hop by hop
    /// from the right, so <c>Connection.RemoteIpAddress</c> is the first address no trusted proxy vouches for. With no
    /// trusted proxies (the default) nothing runs and the connection's address is the client's.
    /// </summary>
    public static void UseForwardedClientAddress(this WebApplication app)
    {
        var listen = app.Services.GetRequiredService<IOptions<ListenerOptions>>().Value;
        if (listen.TrustedProxies.Count == 0)
        {
            return;
        }

        var options = new ForwardedHeadersOptions
        {
            ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto,
            ForwardLimit = null,
        };
        options.KnownProxies.Clear();
        options.KnownIPNetworks.Clear();
        foreach (var proxy in listen.TrustedProxies)
        {
            if (IPAddress.TryParse(proxy, out var address))
            {
                options.KnownProxies.Add(address);
            }
            else
            {
                options.KnownIPNetworks.Add(System.Net.IPNetwork.Parse(proxy));
            }
        }

        // The middleware records the peer in X-Original-For when it believed it; a client's own copy would pass for that.
        var dataPort = listen.DataPort;
        app.UseWhen(context => context.Connection.LocalPort == dataPort, data => data
            .Use((context, next) =>
            {
                context.Request.Headers.Remove(ForwardedHeadersDefaults.XOriginalForHeaderName);
                return next(context);
            })
            .UseForwardedHeaders(options));
    }

    /// <summary>
    /// Keeps the planes apart by the port a connection arrived on (never by the Host header, which callers
    /// control): admin endpoints answer only on the admin port, everything else only on the data port.
    /// Everything the admin port answers is the gateway's own, so it carries <c>X-Content-Type-Options: nosniff</c>.
    /// </summary>
    public static IApplicationBuilder UsePlaneSeparation(this WebApplication app)
    {
        var adminPort = app.Services.GetRequiredService<IOptions<ListenerOptions>>().Value.AdminPort;
        return app.Use((context, next) =>
        {
            var onAdminPort = context.Connection.LocalPort == adminPort;
            var metadata = context.GetEndpoint()?.Metadata;
            var adminEndpoint = metadata?.GetMetadata<AdminPlaneEndpoint>() is not null;
            if (onAdminPort)
            {
                context.Response.Headers.XContentTypeOptions = DataPlaneProblems.NoSniff;
            }

            return onAdminPort == adminEndpoint || metadata?.GetMetadata<AnyPlaneMetadata>() is not null
                ? next(context)
                : DataPlaneProblems.WriteAsync(context, Rejection.RouteNotFound);
        });
    }

    /// <summary>
    /// A request no endpoint matched, on either port: 405 problem+json with <c>Allow</c> when endpoints of this
    /// port's plane take the path with other methods (<see cref="AllowedMethods"/>), otherwise a 404 problem.
    /// </summary>
    public static void MapRouteNotFound(this WebApplication app)
    {
        var services = app.Services;
        var adminPort = services.GetRequiredService<IOptions<ListenerOptions>>().Value.AdminPort;
        AllowedMethods? allowedMethods = null;
        app.MapFallback("{*path}", context =>
        {
            allowedMethods ??= services.GetRequiredService<AllowedMethods>();
            return allowedMethods.Allow(context.Request.Path, context.Request.Method, adminPlane: context.Connection.LocalPort == adminPort) is { } allow
                ? DataPlaneProblems.WriteMethodNotAllowedAsync(context, allow)
                : DataPlaneProblems.WriteAsync(context, Rejection.RouteNotFound);
        }).WithMetadata(AnyPlaneMetadata.Instance).ShortCircuit();
    }
}
