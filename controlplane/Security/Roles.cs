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

/// <summary>
/// The authorization policies endpoints declare; each names the roles it allows. Policies decide by role only; which
/// customer a developer may see is decided by the handler (<see cref="ControlPlaneCaller.CanSee"/>), answering 404.
/// </summary>
public static class ControlPlanePolicies
{
    /// <summary>Role <c>admin</c> only.</summary>
    public const string Admin = "control-plane:admin";

    /// <summary>Admin and compliance: reading across customers.</summary>
    public const string Review = "control-plane:review";

    /// <summary>Admin and developer: managing keys (a developer its own customer's only).</summary>
    public const string ManageKeys = "control-plane:manage-keys";

    /// <summary>Every role (a developer sees its own customer only).</summary>
    public const string AnyRole = "control-plane:any-role";

    /// <summary>The roles each policy allows.</summary>
    public static readonly IReadOnlyDictionary<string, string[]> Allowed = new Dictionary<string, string[]>
    {
        [Admin] = [Roles.Admin],
        [Review] = [Roles.Admin, Roles.Compliance],
        [ManageKeys] = [Roles.Admin, Roles.Developer],
        [AnyRole] = [Roles.Admin, Roles.Compliance, Roles.Developer],
    };
}
