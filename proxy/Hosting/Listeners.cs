using System.ComponentModel.DataAnnotations;
using System.Net;
using Gateway.Proxy.Problems;
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
}

/// <summary>Marks an endpoint served on both ports (health).</summary>
public sealed class AnyPlaneMetadata
{
    public static readonly AnyPlaneMetadata Instance = new();
}

/// <summary>Marks an endpoint as part of the admin plane: served on the admin port only.</summary>
public sealed class AdminPlaneMetadata
{
    public static readonly AdminPlaneMetadata Instance = new();
}

public static class Listeners
{
    /// <summary>Kestrel listens on the data port and the admin port; nothing else.</summary>
    public static WebApplicationBuilder AddGatewayListeners(this WebApplicationBuilder builder)
    {
        var listen = builder.Configuration.GetSection(ListenerOptions.Section).Get<ListenerOptions>() ?? new ListenerOptions();
        var results = new List<ValidationResult>();
        if (!Validator.TryValidateObject(listen, new ValidationContext(listen), results, validateAllProperties: true) || listen.DataPort == listen.AdminPort)
        {
            var messages = results.Select(r => r.ErrorMessage).Append(listen.DataPort == listen.AdminPort ? "Gateway:Listen:DataPort and AdminPort must differ." : null);
            throw new OptionsValidationException(ListenerOptions.Section, typeof(ListenerOptions), [.. messages.OfType<string>()]);
        }

        builder.Services.AddSingleton(Options.Create(listen));
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
    /// Keeps the planes apart by the port a connection arrived on (never by the Host header, which callers
    /// control): admin endpoints answer only on the admin port, everything else only on the data port.
    /// </summary>
    public static IApplicationBuilder UsePlaneSeparation(this WebApplication app)
    {
        var adminPort = app.Services.GetRequiredService<IOptions<ListenerOptions>>().Value.AdminPort;
        return app.Use((context, next) =>
        {
            var onAdminPort = context.Connection.LocalPort == adminPort;
            var metadata = context.GetEndpoint()?.Metadata;
            var adminEndpoint = metadata?.GetMetadata<AdminPlaneMetadata>() is not null;
            return onAdminPort == adminEndpoint || metadata?.GetMetadata<AnyPlaneMetadata>() is not null
                ? next(context)
                : DataPlaneProblems.WriteAsync(context, Rejection.RouteNotFound);
        });
    }

    /// <summary><c>GET /healthz</c> on both ports for load balancers and container probes; never counted.</summary>
    public static void MapHealthChecks(this WebApplication app) =>
        app.MapGet("/healthz", () => TypedResults.Ok(new { status = "ok" })).WithMetadata(AnyPlaneMetadata.Instance);

    /// <summary>Unknown paths get a problem+json 404 instead of an empty one.</summary>
    public static void MapRouteNotFound(this WebApplication app) =>
        app.MapFallback("{*path}", context => DataPlaneProblems.WriteAsync(context, Rejection.RouteNotFound));
}
