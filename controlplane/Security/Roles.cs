namespace Gateway.ControlPlane.Security;

/// <summary>The roles of the control plane. A caller has exactly one.</summary>
public static class Roles
{
    /// <summary>Platform admins: everything.</summary>
    public const string Admin = "admin";

    /// <summary>Compliance staff: read customers, keys, usage and the audit log; change nothing.</summary>
    public const string Compliance = "compliance";

    /// <summary>A third-party developer: its own customer's keys and usage only.</summary>
    public const string Developer = "developer";

    public static readonly IReadOnlyList<string> All = [Admin, Compliance, Developer];
}

/// <summary>The authorization policies endpoints declare; each names the roles it allows.</summary>
public static class ControlPlanePolicies
{
    /// <summary>Role <c>admin</c> only.</summary>
    public const string Admin = "control-plane:admin";
}
