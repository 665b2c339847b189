namespace Gateway.Proxy.Portal;

/// <summary>The portal as the gateway serves it (<c>Gateway:Portal</c>).</summary>
public sealed class PortalOptions
{
    public const string Section = "Gateway:Portal";

    /// <summary>
    /// The API's base URL as callers reach it (e.g. <c>https://api.example.com</c>), shown to developers in the
    /// portal's guide and curl examples. Unset: the portal shows this host on the data port.
    /// </summary>
    public string? DataPlaneUrl { get; set; }

    /// <summary>
    /// Entra ID sign-in in the portal (MSAL.js): the portal's app registration (a single-page application whose
    /// redirect URI is this portal's address) and the API scope it asks for. Offered when this and
    /// <c>Gateway:SignIn:Entra</c> are both configured.
    /// </summary>
    public PortalEntraOptions Entra { get; set; } = new();

    /// <summary>Null when valid; otherwise why not, for the start-up error.</summary>
    public string? Problem() =>
        DataPlaneUrl is null || Uri.TryCreate(DataPlaneUrl, UriKind.Absolute, out var url) && url.Scheme is "http" or "https" && string.IsNullOrEmpty(url.Query) && string.IsNullOrEmpty(url.Fragment)
            ? null
            : $"{Section}:DataPlaneUrl must be an absolute http:// or https:// URL without query or fragment, not '{DataPlaneUrl}'.";
}

/// <summary><c>Gateway:Portal:Entra</c>: the portal's side of Entra ID sign-in.</summary>
public sealed class PortalEntraOptions
{
    /// <summary>The client (application) id of the portal's single-page-application registration.</summary>
    public string? ClientId { get; set; }

    /// <summary>The scope of the admin API the portal asks a token for. Unset: <c>{Gateway:SignIn:Entra:Audience}/.default</c>.</summary>
    public string? Scope { get; set; }
}
