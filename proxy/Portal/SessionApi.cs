using System.Security.Claims;
using Gateway.ControlPlane.Audit;
using Gateway.ControlPlane.Http;
using Gateway.ControlPlane.Security;
using Gateway.Core.Problems;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace Gateway.Proxy.Portal;

/// <summary>Body of <c>POST /admin/v1/session</c>: the admin token or a role token, pasted into the portal.</summary>
public sealed record SignInRequest(string? Token);

/// <summary>
/// Who the session (or bearer token) signs in, until when the session cookie is valid, and the server's clock (the
/// portal's "this month" is the gateway's UTC month, whatever the viewer's clock says).
/// </summary>
public sealed record SessionView(string Subject, string Role, string? CustomerId, DateTimeOffset? ExpiresAt, DateTimeOffset Now);

/// <summary>
/// <c>/admin/v1/session</c>: the portal's cookie sign-in on one machine (<see cref="PortalSession"/>). Gateway-only
/// (admin port, not a control-plane operation): in Azure the portal signs in with Entra ID and sends bearer tokens.
/// </summary>
public static class SessionApi
{
    private static readonly ApiProblem NotValid = new(ProblemTypes.AdminUnauthorized, 401,
        "That token is not valid or has expired. Paste the admin token or a role token from POST /admin/v1/tokens.");

    public static RouteGroupBuilder MapSessionApi(this RouteGroupBuilder admin)
    {
        admin.MapPost("/session", SignIn)
            .WithName("StartPortalSession")
            .WithSummary("Portal sign-in: check a pasted token once and set the session cookie (requires X-Gateway-Portal)")
            .AllowAnonymous()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden);
        admin.MapGet("/session", Current)
            .WithName("GetPortalSession")
            .WithSummary("Who the session cookie or bearer token signs in")
            .RequireAuthorization(ControlPlanePolicies.AnyRole)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden);
        admin.MapDelete("/session", SignOut)
            .WithName("EndPortalSession")
            .WithSummary("Portal sign-out: clear the session cookie (requires X-Gateway-Portal)")
            .AllowAnonymous()
            .ProducesProblem(StatusCodes.Status403Forbidden);
        return admin;
    }

    public static async Task<Results<Ok<SessionView>, ProblemHttpResult>> SignIn(HttpContext context, IOptions<SignInOptions> signIn, TimeProvider time, AuditLog audit, CancellationToken cancellationToken)
    {
        if (!PortalSession.IsSafe(context.Request))
        {
            return ProblemResults.From(PortalSession.MissingHeader);
        }

        var body = await JsonBody.ReadAsync<SignInRequest>(context.Request, cancellationToken);
        if (!body.Succeeded)
        {
            return ProblemResults.From(body.Problem!);
        }

        var token = body.Value!.Token?.Trim();
        if (string.IsNullOrEmpty(token) || token.Any(char.IsControl))
        {
            return ProblemResults.From(ApiProblem.Invalid("token", "is required: paste the admin token or a role token."));
        }

        // The very same bearer schemes check the token (and record a failure in the audit log); the header lives only
        // for this call and the token is kept nowhere.
        context.Request.Headers.Authorization = $"Bearer {token}";
        AuthenticateResult result;
        try
        {
            result = await context.AuthenticateAsync(SignInSchemes.ControlPlane);
        }
        finally
        {
            context.Request.Headers.Remove(HeaderNames.Authorization);
        }

        if (!result.Succeeded)
        {
            return ProblemResults.From(NotValid);
        }

        var caller = ControlPlaneCaller.Of(result.Principal);
        var latest = time.GetUtcNow() + signIn.Value.TokenLifetime;
        var expires = result.Properties.ExpiresUtc is { } tokenExpires && tokenExpires < latest ? tokenExpires : latest;
        var principal = ControlPlaneCaller.Principal(PortalSession.SchemeName, caller.Subject, caller.Role, caller.CustomerId);
        await context.SignInAsync(PortalSession.SchemeName, principal, new AuthenticationProperties { ExpiresUtc = expires, IsPersistent = false, AllowRefresh = false });
        context.User = principal;
        await audit.RecordAsync(context, AuditActions.PortalSignIn, caller.Subject, $"portal session as {caller.Role}{(caller.CustomerId is null ? "" : $", customer {caller.CustomerId}")}, until {expires:O}", cancellationToken);
        return TypedResults.Ok(new SessionView(caller.Subject, caller.Role, caller.CustomerId, expires, time.GetUtcNow()));
    }

    public static async Task<Ok<SessionView>> Current(ClaimsPrincipal user, HttpContext context, TimeProvider time)
    {
        var caller = ControlPlaneCaller.Of(user);
        var expires = PortalSession.Carries(context) ? (await context.AuthenticateAsync(SignInSchemes.ControlPlane)).Properties?.ExpiresUtc : null;
        return TypedResults.Ok(new SessionView(caller.Subject, caller.Role, caller.CustomerId, expires, time.GetUtcNow()));
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> SignOut(HttpRequest request)
    {
        if (!PortalSession.IsSafe(request))
        {
            return ProblemResults.From(PortalSession.MissingHeader);
        }

        await request.HttpContext.SignOutAsync(PortalSession.SchemeName);
        return TypedResults.NoContent();
    }
}
