using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Gateway.Core;
using Gateway.Core.Problems;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace Gateway.Proxy.Admin;

/// <summary>
/// Admin API authentication: <c>Authorization: Bearer &lt;admin token&gt;</c>, the token from
/// <c>Gateway:Admin:Token</c> or <c>GATEWAY_ADMIN_TOKEN</c>. In Development, if none is set, one is generated
/// at start and printed once.
/// </summary>
public sealed class AdminTokenAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> schemeOptions,
    ILoggerFactory loggerFactory,
    UrlEncoder encoder,
    IOptions<GatewayOptions> gateway) : AuthenticationHandler<AuthenticationSchemeOptions>(schemeOptions, loggerFactory, encoder)
{
    public const string SchemeName = "AdminToken";
    public const string Policy = "Admin";

    private static readonly ClaimsPrincipal Admin = new(new ClaimsIdentity([new Claim(ClaimTypes.Name, "admin")], SchemeName));

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization;
        if (header.Count != 1 || header[0] is not { } value || !value.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        var expected = Encoding.UTF8.GetBytes(gateway.Value.Admin.Token ?? "");
        var presented = Encoding.UTF8.GetBytes(value["Bearer ".Length..].Trim());
        return Task.FromResult(expected.Length > 0 && CryptographicOperations.FixedTimeEquals(expected, presented)
            ? AuthenticateResult.Success(new AuthenticationTicket(Admin, SchemeName))
            : AuthenticateResult.Fail("The admin token is not valid."));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = 401;
        Response.ContentType = "application/problem+json";
        Response.Headers[HeaderNames.WWWAuthenticate] = "Bearer realm=\"gateway-admin\"";
        await Response.WriteAsync(JsonSerializer.Serialize(new
        {
            type = ProblemTypes.AdminUnauthorized,
            title = "An admin token is required.",
            status = 401,
            detail = "Send the admin token as 'Authorization: Bearer <token>'.",
        }));
    }
}

public static class AdminToken
{
    /// <summary>
    /// One token per process: the options are built more than once (IOptions and IOptionsMonitor each build their
    /// own), and every build must get the token that was printed.
    /// </summary>
    private static readonly Lazy<string> Generated = new(() =>
    {
        var token = $"adm_{RandomNumberGenerator.GetHexString(32, lowercase: true)}";

        // Printed once, to the console only (never to log sinks), so the operator can call the admin API.
        Console.WriteLine($"Admin API token for this run (set GATEWAY_ADMIN_TOKEN to choose your own): {token}");
        return token;
    });

    /// <summary>Fills in a generated token in Development when none is configured; elsewhere a missing token stops start-up.</summary>
    public static void Configure(GatewayOptions options, IHostEnvironment environment)
    {
        if (string.IsNullOrWhiteSpace(options.Admin.Token) && environment.IsDevelopment())
        {
            options.Admin.Token = Generated.Value;
        }
    }

    public static ValidateOptionsResult Validate(GatewayOptions options) =>
        options.Admin.Token is { Length: >= 16 }
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail("Gateway:Admin:Token (or GATEWAY_ADMIN_TOKEN) must be set to at least 16 characters.");
}
