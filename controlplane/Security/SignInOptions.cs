using System.ComponentModel.DataAnnotations;

namespace Gateway.ControlPlane.Security;

/// <summary>
/// Sign-in to the control plane (<c>Gateway:SignIn</c>): role tokens this deployment issues, and Entra ID in production.
/// The admin token is <c>Gateway:Admin:Token</c>.
/// </summary>
public sealed class SignInOptions
{
    public const string Section = "Gateway:SignIn";

    /// <summary>
    /// The HMAC-SHA256 key role tokens are signed with (at least 32 characters; Key Vault in production). Unset: a
    /// random key per process, so role tokens stop working when the process restarts.
    /// </summary>
    [MinLength(32, ErrorMessage = "Gateway:SignIn:SigningKey must be at least 32 characters.")]
    public string? SigningKey { get; set; }

    /// <summary>How long an issued role token is valid.</summary>
    [Range(typeof(TimeSpan), "00:01:00", "7.00:00:00", ErrorMessage = "Gateway:SignIn:TokenLifetime must be between 00:01:00 and 7.00:00:00.")]
    public TimeSpan TokenLifetime { get; set; } = TimeSpan.FromHours(8);

    /// <summary>
    /// Failed sign-ins one source address may make per minute (a fixed one-minute window);
    /// beyond it, requests from the address that present a token are refused with 429 until it refills.
    /// </summary>
    [Range(1, 1_000_000, ErrorMessage = "Gateway:SignIn:FailedSignInsPerMinute must be between 1 and 1000000.")]
    public int FailedSignInsPerMinute { get; set; } = 10;

    /// <summary>Issuer and audience of role tokens.</summary>
    public string Issuer { get; set; } = "gateway-control-plane";

    public EntraOptions Entra { get; set; } = new();
}

/// <summary>
/// Entra ID (OIDC) bearer tokens for production. Enabled when <see cref="Authority"/> and <see cref="Audience"/> are
/// set: the app registration exposes app roles named <c>admin</c>, <c>compliance</c> and <c>developer</c>, and a
/// developer's customer id is a claim (<see cref="CustomerClaim"/>).
/// </summary>
public sealed class EntraOptions
{
    /// <summary>e.g. <c>https://login.microsoftonline.com/{tenant-id}/v2.0</c>.</summary>
    public string? Authority { get; set; }

    /// <summary>The API's application id URI or client id, e.g. <c>api://gateway-admin</c>.</summary>
    public string? Audience { get; set; }

    /// <summary>The claim that holds the app roles.</summary>
    public string RoleClaim { get; set; } = "roles";

    /// <summary>The claim that binds a developer to its customer (a directory extension or optional claim).</summary>
    public string CustomerClaim { get; set; } = "customer_id";

    public bool Enabled => !string.IsNullOrWhiteSpace(Authority) && !string.IsNullOrWhiteSpace(Audience);
}
