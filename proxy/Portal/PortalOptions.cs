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

    /// <summary>Null when valid; otherwise why not, for the start-up error.</summary>
    public string? Problem() =>
        DataPlaneUrl is null || Uri.TryCreate(DataPlaneUrl, UriKind.Absolute, out var url) && url.Scheme is "http" or "https" && string.IsNullOrEmpty(url.Query) && string.IsNullOrEmpty(url.Fragment)
            ? null
            : $"{Section}:DataPlaneUrl must be an absolute http:// or https:// URL without query or fragment, not '{DataPlaneUrl}'.";
}
