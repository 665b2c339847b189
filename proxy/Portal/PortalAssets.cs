using Gateway.ControlPlane.Http;
using Gateway.ControlPlane.Security;
using Gateway.Core.Problems;
using Microsoft.AspNetCore.StaticFiles;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace Gateway.Proxy.Portal;

/// <summary>
/// The portal's static files (built by <c>npm run build:portal</c> into <c>portal/dist</c>, copied to the gateway's
/// output folder as <c>portal/</c>) under <c>/portal/</c> on the admin port, same origin as <c>/admin/v1</c>.
/// Fingerprinted files (<c>assets/name-HASH.ext</c>) are cached for a year; the HTML and <c>config.json</c> are
/// revalidated on every load, so a new build is picked up at once. Every answer carries a strict CSP: scripts and
/// styles from this origin only, no inline script, no eval.
/// </summary>
public static class PortalAssets
{
    public const string Path = "/portal";

    private static readonly ApiProblem NoSuchFile = new(ProblemTypes.RouteNotFound, 404, "No such portal file.");

    /// <summary>The CSP of every portal file. <c>data:</c> images are Pico's inline SVG icons (select arrows, checkboxes).</summary>
    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; " +
        "manifest-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

    /// <summary>The folder the portal is served from: <c>portal/</c> beside the gateway's assembly.</summary>
    public static string Folder { get; } = System.IO.Path.Combine(AppContext.BaseDirectory, "portal");

    /// <summary>
    /// Maps <c>/portal/{**path}</c> as an admin-plane endpoint whose handler is ASP.NET's static-file middleware
    /// (with default documents), so plane separation keeps the portal off the data port. <c>/portal</c> (which the
    /// catch-all matches too) redirects to <c>/portal/</c>, whose relative asset paths need the trailing slash.
    /// </summary>
    public static void MapPortal(this WebApplication app)
    {
        // config.json is answered, not read from disk: the admin API is this origin, the data plane's address is the
        // operator's setting (Gateway:Portal:DataPlaneUrl). The Static Web App serves the file the build wrote instead.
        var options = app.Services.GetRequiredService<IOptions<PortalOptions>>().Value;
        var entra = EntraFor(options, app.Services.GetRequiredService<IOptions<SignInOptions>>().Value.Entra);
        var csp = ContentSecurityPolicyFor(entra?.Authority);
        app.MapGet($"{Path}/config.json", (HttpContext context) =>
            {
                SetHeaders(context.Response, "config.json", csp);
                return TypedResults.Json(new PortalConfig("", options.DataPlaneUrl?.TrimEnd('/'), entra, TokenSignIn: true));
            })
            .WithMetadata(AdminPlaneEndpoint.Instance)
            .ExcludeFromDescription();

        var files = Directory.Exists(Folder) ? (IFileProvider)new PhysicalFileProvider(Folder) : new NullFileProvider();
        var serve = ((IEndpointRouteBuilder)app).CreateApplicationBuilder();

        // The static-file middleware skips requests that already matched an endpoint with a handler: clear it, as
        // ASP.NET's MapFallbackToFile does.
        serve.Use((context, next) =>
        {
            if (string.Equals(context.Request.Path.Value, PortalAssets.Path, StringComparison.Ordinal))
            {
                context.Response.Redirect($"{Path}/");
                return Task.CompletedTask;
            }

            context.SetEndpoint(null);
            return next(context);
        });
        serve.UseDefaultFiles(new DefaultFilesOptions { RequestPath = Path, FileProvider = files, DefaultFileNames = ["index.html"] });
        serve.UseStaticFiles(new StaticFileOptions
        {
            RequestPath = Path,
            FileProvider = files,
            ContentTypeProvider = new FileExtensionContentTypeProvider(),
            OnPrepareResponse = c => SetHeaders(c.Context.Response, c.File.Name, csp),
        });
        serve.Run(context =>
        {
            SetHeaders(context.Response, "", csp);
            return ProblemResults.From(NoSuchFile).ExecuteAsync(context);
        });
        var handler = serve.Build();

        app.MapMethods($"{Path}/{{**file}}", [HttpMethods.Get, HttpMethods.Head], handler).WithMetadata(AdminPlaneEndpoint.Instance).ExcludeFromDescription();
    }

    /// <summary>
    /// The portal's configuration: where the admin API is (<c>""</c>: this origin), where callers reach the API (null:
    /// unknown), Entra ID sign-in (null: off) and whether the token form is offered (only where the session API is,
    /// i.e. on the gateway).
    /// </summary>
    public sealed record PortalConfig(string ApiBase, string? DataPlaneUrl, PortalEntra? Entra, bool TokenSignIn);

    /// <summary>What MSAL.js needs: the authority (as the API validates it), the portal's client id, the API scope.</summary>
    public sealed record PortalEntra(string Authority, string ClientId, string Scope);

    /// <summary>Entra sign-in for the portal when both the API (<c>Gateway:SignIn:Entra</c>) and the portal's client id are configured; else null.</summary>
    public static PortalEntra? EntraFor(PortalOptions portal, EntraOptions api) =>
        api.Enabled && !string.IsNullOrWhiteSpace(portal.Entra.ClientId)
            ? new PortalEntra(api.Authority!.TrimEnd('/'), portal.Entra.ClientId, string.IsNullOrWhiteSpace(portal.Entra.Scope) ? $"{api.Audience!.TrimEnd('/')}/.default" : portal.Entra.Scope)
            : null;

    /// <summary>
    /// <see cref="ContentSecurityPolicy"/>, plus the Entra authority's origin in <c>connect-src</c> when the portal
    /// signs in with Entra (MSAL.js fetches its metadata and redeems the code there); nothing else is widened.
    /// </summary>
    public static string ContentSecurityPolicyFor(string? entraAuthority) =>
        entraAuthority is null || !Uri.TryCreate(entraAuthority, UriKind.Absolute, out var authority)
            ? ContentSecurityPolicy
            : ContentSecurityPolicy.Replace("connect-src 'self';", $"connect-src 'self' {authority.GetLeftPart(UriPartial.Authority)};", StringComparison.Ordinal);

    /// <summary>Portal settings, checked at start: a malformed data-plane URL stops the gateway with the reason.</summary>
    public static IServiceCollection AddPortal(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<PortalOptions>().Bind(configuration.GetSection(PortalOptions.Section))
            .Validate(o => o.Problem() is null, $"{PortalOptions.Section}:DataPlaneUrl must be an absolute http:// or https:// URL without query or fragment.")
            .ValidateOnStart();
        return services;
    }

    /// <summary>True for a file name the build fingerprinted (<c>name-XXXXXXXX.ext</c>, eight or more base-32 characters).</summary>
    public static bool IsFingerprinted(string fileName) =>
        System.Text.RegularExpressions.Regex.IsMatch(fileName, "^[A-Za-z0-9_.]+-[A-Z0-9]{8,}\\.(js|css|map|woff2|svg|png)$");

    private static void SetHeaders(HttpResponse response, string fileName, string csp)
    {
        var headers = response.Headers;
        headers.ContentSecurityPolicy = csp;
        headers[HeaderNames.XFrameOptions] = "DENY";
        headers["Referrer-Policy"] = "no-referrer";
        headers["Cross-Origin-Opener-Policy"] = "same-origin";
        headers.CacheControl = IsFingerprinted(fileName) ? "public, max-age=31536000, immutable" : "no-cache";
    }
}
