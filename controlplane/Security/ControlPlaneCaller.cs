using System.Security.Claims;

namespace Gateway.ControlPlane.Security;

/// <summary>Who is calling: subject, role and, for a developer, the one customer it may see.</summary>
public sealed record ControlPlaneCaller(string Subject, string Role, string? CustomerId)
{
    /// <summary>Claim types of control-plane principals, whatever scheme signed them in.</summary>
    public const string SubjectClaim = "sub";
    public const string RoleClaim = "role";
    public const string CustomerClaim = "customer_id";

    public static ControlPlaneCaller Of(ClaimsPrincipal user) => new(
        user.FindFirst(SubjectClaim)?.Value ?? "anonymous",
        user.FindFirst(RoleClaim)?.Value ?? "",
        user.FindFirst(CustomerClaim)?.Value);

    /// <summary>
    /// True when this caller may see the customer's data: admin and compliance see every customer, a developer its own
    /// only. Callers answer "not found" otherwise, so another tenant's ids cannot be probed.
    /// </summary>
    public bool CanSee(string customerId) =>
        Role is Roles.Admin or Roles.Compliance || (Role == Roles.Developer && string.Equals(CustomerId, customerId, StringComparison.Ordinal));

    public static ClaimsPrincipal Principal(string scheme, string subject, string role, string? customerId)
    {
        List<Claim> claims = [new(SubjectClaim, subject), new(RoleClaim, role)];
        if (customerId is not null)
        {
            claims.Add(new(CustomerClaim, customerId));
        }

        return new ClaimsPrincipal(new ClaimsIdentity(claims, scheme, SubjectClaim, RoleClaim));
    }
}
