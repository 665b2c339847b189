using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Gateway.ControlPlane.Security;

/// <summary>A role token as <c>POST /admin/v1/tokens</c> answers it. The token is shown here only and never stored or logged.</summary>
public sealed record IssuedToken(string Token, string Role, string? CustomerId, DateTimeOffset ExpiresAt);

/// <summary>
/// Signed, expiring role tokens (JWT, HMAC-SHA256) for one machine: issued by an admin, sent as
/// <c>Authorization: Bearer …</c> like the admin token, checked against the injected clock.
/// </summary>
public sealed class RoleTokens
{
    private static readonly TimeSpan ClockSkew = TimeSpan.FromSeconds(30);
    private readonly SignInOptions _options;
    private readonly TimeProvider _time;
    private readonly SigningCredentials _credentials;
    private readonly JsonWebTokenHandler _handler = new() { SetDefaultTimesOnTokenCreation = false };

    public RoleTokens(IOptions<SignInOptions> options, TimeProvider time)
    {
        _options = options.Value;
        _time = time;

        // No key configured: a random one, so tokens live as long as this process.
        var key = _options.SigningKey is { Length: > 0 } configured ? Encoding.UTF8.GetBytes(configured) : RandomNumberGenerator.GetBytes(32);
        _credentials = new SigningCredentials(new SymmetricSecurityKey(key), SecurityAlgorithms.HmacSha256);
        ValidationParameters = new TokenValidationParameters
        {
            ValidIssuer = _options.Issuer,
            ValidAudience = _options.Issuer,
            IssuerSigningKey = _credentials.Key,
            ValidAlgorithms = [SecurityAlgorithms.HmacSha256],
            RequireExpirationTime = true,
            NameClaimType = ControlPlaneCaller.SubjectClaim,
            RoleClaimType = ControlPlaneCaller.RoleClaim,
            LifetimeValidator = (notBefore, expires, _, _) =>
            {
                var now = _time.GetUtcNow().UtcDateTime;
                return expires is { } end && now < end + ClockSkew && (notBefore is not { } start || now >= start - ClockSkew);
            },
        };
    }

    public TokenValidationParameters ValidationParameters { get; }

    public IssuedToken Issue(string subject, string role, string? customerId)
    {
        var now = _time.GetUtcNow();
        var expires = now + _options.TokenLifetime;
        var claims = new Dictionary<string, object>
        {
            [ControlPlaneCaller.SubjectClaim] = subject,
            [ControlPlaneCaller.RoleClaim] = role,
            [JwtRegisteredClaimNames.Jti] = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12)),
        };
        if (customerId is not null)
        {
            claims[ControlPlaneCaller.CustomerClaim] = customerId;
        }

        var token = _handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = _options.Issuer,
            Audience = _options.Issuer,
            Claims = claims,
            IssuedAt = now.UtcDateTime,
            NotBefore = now.UtcDateTime,
            Expires = expires.UtcDateTime,
            SigningCredentials = _credentials,
        });
        return new IssuedToken(token, role, customerId, expires);
    }
}
