using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Gateway.ControlPlane.Http;
using Gateway.Core;
using Gateway.Core.Problems;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace Gateway.ControlPlane.Security;

/// <summary>
/// The admin token as a sign-in: <c>Authorization: Bearer &lt;admin token&gt;</c>, the token from
/// <c>Gateway:Admin:Token</c> or <c>GATEWAY_ADMIN_TOKEN</c>, signs in as role <c>admin</c> with subject
/// <c>admin-token</c>. Refusals are problem+json: 401 <c>admin-unauthorized</c>, 403 <c>forbidden</c>.
/// </summary>
public sealed class AdminTokenAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> schemeOptions,
    ILoggerFactory loggerFactory,
    UrlEncoder encoder,
    IOptions<GatewayOptions> gateway) : AuthenticationHandler<AuthenticationSchemeOptions>(schemeOptions, loggerFactory, encoder)
{
    public const string SchemeName = "AdminToken";

    /// <summary>The subject the admin token signs in as (audit entries name it as the actor).</summary>
    public const string Subject = "admin-token";

    private static readonly ClaimsPrincipal Admin = ControlPlaneCaller.Principal(SchemeName, Subject, Roles.Admin, customerId: null);

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization;
        if (header.Count != 1 || header[0] is not { } value || !value.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return AuthenticateResult.NoResult();
        }

        var failures = Context.RequestServices.GetRequiredService<FailedSignIns>();
        if (failures.IsLockedOut(Context))
        {
            return AuthenticateResult.Fail("Too many failed sign-ins from this address.");
        }

        var expected = Encoding.UTF8.GetBytes(gateway.Value.Admin.Token ?? "");
        var presented = Encoding.UTF8.GetBytes(value["Bearer ".Length..].Trim());
        if (expected.Length > 0 && CryptographicOperations.FixedTimeEquals(expected, presented))
        {
            return AuthenticateResult.Success(new AuthenticationTicket(Admin, SchemeName));
        }

        await failures.RecordAsync(Context, SchemeName, "the admin token is not valid");
        return AuthenticateResult.Fail("The admin token is not valid.");
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        if (!await FailedSignIns.TryWriteLockedOutAsync(Context))
        {
            await SignInProblems.WriteUnauthorizedAsync(Context);
        }
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) => SignInProblems.WriteForbiddenAsync(Context);
}

/// <summary>The two refusals of sign-in, written the same way by every scheme and both hosts.</summary>
public static class SignInProblems
{
    public static ApiProblem Unauthorized { get; } = new(ProblemTypes.AdminUnauthorized, 401,
        "Send the admin token or a role token as 'Authorization: Bearer <token>'.");

    public static ApiProblem Forbidden { get; } = new(ProblemTypes.Forbidden, 403,
        "Your role does not allow this operation.");

    public static Task WriteUnauthorizedAsync(Microsoft.AspNetCore.Http.HttpContext context)
    {
        if (context.Response.HasStarted)
        {
            return Task.CompletedTask;
        }

        if (context.Items.ContainsKey(PortalSession.MissingHeaderItem))
        {
            return ProblemResults.From(PortalSession.MissingHeader).ExecuteAsync(context);
        }

        context.Response.Headers[HeaderNames.WWWAuthenticate] = "Bearer realm=\"gateway-admin\"";
        return ProblemResults.From(Unauthorized).ExecuteAsync(context);
    }

    public static Task WriteForbiddenAsync(Microsoft.AspNetCore.Http.HttpContext context) =>
        context.Response.HasStarted ? Task.CompletedTask : ProblemResults.From(Forbidden).ExecuteAsync(context);
}
