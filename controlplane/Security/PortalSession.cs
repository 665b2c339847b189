using Gateway.Core;
using Gateway.Core.Problems;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.ControlPlane.Security;

/// <summary>
/// The portal's sign-in on one machine: a pasted admin or role token is checked by the bearer schemes once
/// (<c>POST /admin/v1/session</c>), and the caller it signs in (subject, role, customer) is kept in an encrypted,
/// HttpOnly, SameSite=Strict cookie scoped to <c>/admin/v1</c> (Secure when the request came over TLS). The cookie never
/// holds the token. Every <c>/admin/v1</c> endpoint accepts the cookie where it accepts a bearer token.
/// </summary>
/// <remarks>
/// CSRF: besides SameSite=Strict, a request the cookie signs in that is not GET, HEAD or OPTIONS must carry
/// <see cref="RequestHeader"/>. A cross-site form cannot set a header, and a cross-site script that sets one needs a CORS
/// preflight this origin never grants; without the header the cookie signs nobody in and the request is refused (403).
/// </remarks>
public static class PortalSession
{
    public const string SchemeName = "PortalCookie";

    /// <summary>The cookie's name (no <c>__Host-</c> prefix: on one machine the admin port usually speaks plain HTTP).</summary>
    public const string CookieName = "gateway_portal";

    /// <summary>The header every cookie-signed change must carry (any non-empty value; the portal sends <c>1</c>).</summary>
    public const string RequestHeader = "X-Gateway-Portal";

    /// <summary>Set on a request whose cookie was refused for want of <see cref="RequestHeader"/>, so the refusal says why.</summary>
    internal const string MissingHeaderItem = "gateway.portal.missing-header";

    public static ApiProblem MissingHeader { get; } = new(ProblemTypes.Forbidden, 403,
        $"A change made with the portal's sign-in cookie must carry the header '{RequestHeader}'.");

    /// <summary>True when the request carries <see cref="RequestHeader"/> or may change nothing (GET, HEAD, OPTIONS).</summary>
    public static bool IsSafe(HttpRequest request) =>
        HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method) || HttpMethods.IsOptions(request.Method)
        || !string.IsNullOrEmpty(request.Headers[RequestHeader]);

    /// <summary>True when the request carries the session cookie and no <c>Authorization</c> header (a bearer token wins).</summary>
    public static bool Carries(HttpContext context) =>
        context.Request.Headers.Authorization.Count == 0 && context.Request.Cookies.ContainsKey(CookieName);

    /// <summary>The cookie scheme. Sign-in sets the ticket's expiry (the token's, at most <c>Gateway:SignIn:TokenLifetime</c>).</summary>
    public static AuthenticationBuilder AddPortalSession(this AuthenticationBuilder authentication) =>
        authentication.AddCookie(SchemeName, o =>
        {
            o.Cookie.Name = CookieName;
            o.Cookie.Path = "/admin/v1";
            o.Cookie.HttpOnly = true;
            o.Cookie.SameSite = SameSiteMode.Strict;
            o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            o.Cookie.IsEssential = true;
            o.SlidingExpiration = false;
            o.Events = new CookieAuthenticationEvents
            {
                OnValidatePrincipal = context =>
                {
                    if (!IsSafe(context.Request))
                    {
                        context.HttpContext.Items[MissingHeaderItem] = true;
                        context.RejectPrincipal();
                    }

                    return Task.CompletedTask;
                },

                // An API answers problems, never redirects to a login page: refusals go to the admin-token handler.
                OnRedirectToLogin = context => SignInProblems.WriteUnauthorizedAsync(context.HttpContext),
                OnRedirectToAccessDenied = context => SignInProblems.WriteForbiddenAsync(context.HttpContext),
            };
        });
}
