using System.Security.Cryptography;
using Gateway.Core;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Gateway.ControlPlane.Security;

public static class AdminToken
{
    public const string Requirement =
        "Gateway:Admin:Token (or GATEWAY_ADMIN_TOKEN) must be set to at least 16 characters, without control characters or leading or trailing whitespace.";

    /// <summary>
    /// Fills in the run's generated token in Development when none is configured; elsewhere a missing token stops
    /// start-up. Every options instance (IOptions, IOptionsMonitor, …) runs this, so the token comes from one
    /// <see cref="GeneratedAdminToken"/> per process: one token, printed once.
    /// </summary>
    public static void Configure(GatewayOptions options, IHostEnvironment environment, GeneratedAdminToken generated)
    {
        if (string.IsNullOrWhiteSpace(options.Admin.Token) && environment.IsDevelopment())
        {
            options.Admin.Token = generated.Value;
        }
    }

    /// <summary>
    /// At least 16 characters; none a control character, and no whitespace at either end: the handler trims what it
    /// is sent, so such a token could never match, and one of only spaces is no secret.
    /// </summary>
    public static ValidateOptionsResult Validate(GatewayOptions options) =>
        options.Admin.Token is { Length: >= 16 } token
        && !char.IsWhiteSpace(token[0])
        && !char.IsWhiteSpace(token[^1])
        && !token.Any(char.IsControl)
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail(Requirement);
}

/// <summary>The admin token generated for this run when none is configured (Development only); printed once, on first use.</summary>
public sealed class GeneratedAdminToken
{
    private readonly Lazy<string> _value = new(() =>
    {
        var token = $"adm_{RandomNumberGenerator.GetHexString(32, lowercase: true)}";

        // Printed to the console only (never to log sinks), so the operator can call the admin API.
        Console.WriteLine($"Admin API token for this run (set GATEWAY_ADMIN_TOKEN to choose your own): {token}");
        return token;
    });

    public string Value => _value.Value;
}
