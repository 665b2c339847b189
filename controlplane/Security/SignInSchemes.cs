using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;

namespace Gateway.ControlPlane.Security;

/// <summary>The sign-in schemes of the control plane and how a request's bearer token picks one.</summary>
public static class SignInSchemes
{
    /// <summary>The scheme every policy names; it forwards to one of the others.</summary>
    public const string ControlPlane = "ControlPlane";

    /// <summary>Role tokens issued by <c>POST /admin/v1/tokens</c>.</summary>
    public const string RoleToken = "RoleToken";

    /// <summary>Entra ID bearer tokens (production).</summary>
    public const string Entra = "Entra";

    /// <summary>
    /// A JWT (three dot-separated parts) goes to the role-token scheme, or to Entra when Entra is configured and the
    /// token's (unverified) issuer is not this deployment's; anything else is tried as the admin token. So is any
    /// token from an address locked out by <see cref="FailedSignIns"/>: the admin-token handler refuses it unchecked.
    /// A request without an <c>Authorization</c> header that carries the portal's cookie goes to <see cref="PortalSession"/>.
    /// </summary>
    public static string Select(HttpContext context, bool entraEnabled, IConfiguration configuration)
    {
        if (PortalSession.Carries(context))
        {
            return PortalSession.SchemeName;
        }

        var header = context.Request.Headers.Authorization;
        if (header.Count != 1 || header[0] is not { } value || !value.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)
            || context.RequestServices.GetRequiredService<FailedSignIns>().IsLockedOut(context))
        {
            return AdminTokenAuthenticationHandler.SchemeName;
        }

        var token = value.AsSpan("Bearer ".Length).Trim();
        if (token.Count('.') != 2)
        {
            return AdminTokenAuthenticationHandler.SchemeName;
        }

        if (!entraEnabled)
        {
            return RoleToken;
        }

        var issuer = configuration[$"{SignInOptions.Section}:{nameof(SignInOptions.Issuer)}"] ?? new SignInOptions().Issuer;
        try
        {
            return new JsonWebToken(token.ToString()).Issuer == issuer ? RoleToken : Entra;
        }
        catch (ArgumentException)
        {
            return RoleToken;
        }
    }
}

/// <summary>Turns a validated Entra ID token into a control-plane principal: subject, one role, a developer's customer.</summary>
public static class EntraSignIn
{
    public static async Task Normalize(TokenValidatedContext context, EntraOptions entra)
    {
        var principal = context.Principal!;
        var roles = principal.FindAll(entra.RoleClaim).Select(c => c.Value).ToHashSet(StringComparer.Ordinal);
        var role = Roles.All.FirstOrDefault(roles.Contains);
        if (role is null)
        {
            await FailAsync(context, "The token carries none of the roles admin, compliance, developer.");
            return;
        }

        var subject = principal.FindFirst("oid")?.Value ?? principal.FindFirst("sub")?.Value ?? "entra";
        var customerId = role == Roles.Developer ? principal.FindFirst(entra.CustomerClaim)?.Value : null;
        if (role == Roles.Developer && customerId is null)
        {
            await FailAsync(context, $"A developer's token must carry the claim '{entra.CustomerClaim}'.");
            return;
        }

        context.Principal = ControlPlaneCaller.Principal(SignInSchemes.Entra, subject, role, customerId);
    }

    /// <summary>A valid Entra token that does not sign anyone in here is a failed sign-in like any other (audited, charged).</summary>
    private static async Task FailAsync(TokenValidatedContext context, string reason)
    {
        await context.HttpContext.RequestServices.GetRequiredService<FailedSignIns>().RecordAsync(context.HttpContext, context.Scheme.Name, reason);
        context.Fail(reason);
    }
}
