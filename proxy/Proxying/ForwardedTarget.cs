using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Primitives;
using Yarp.ReverseProxy.Transforms;

namespace Gateway.Proxy.Proxying;

/// <summary>
/// The URL the upstream is sent: YARP's, with two repairs that cost nothing unless a request needs them.
/// <list type="bullet">
/// <item>Query parameters named <c>api_key</c>, <c>apikey</c> or <c>api-key</c> (any case) are removed. The gateway
/// reads keys from headers only, so a key pasted into the URL is not used; it must not reach the upstream either.
/// (A name spelled with percent-escapes, <c>%61pi_key</c>, is not recognised: nobody pastes a key that way.)</item>
/// <item>An encoded slash stays one. Kestrel decodes the path except <c>%2F</c>, which it leaves as the three
/// characters <c>%2F</c>; YARP then escapes the <c>%</c> (<c>%252F</c>), because the decoded path cannot tell
/// <c>%2F</c> from a literal <c>%2F</c> sent as <c>%252F</c>. The raw request target can: without <c>%25</c> in
/// it, every <c>%</c> in the decoded path is an encoded slash and is forwarded as sent. An encoded slash next to a
/// dot segment (<c>..%2F</c>) keeps YARP's escaping, so no upstream that decodes slashes can be walked out of the
/// route's path.</item>
/// </list>
/// </summary>
public static class ForwardedTarget
{
    private static readonly string[] KeyParameters = ["api_key", "apikey", "api-key"];

    public static void Apply(RequestTransformContext transform)
    {
        var query = transform.HttpContext.Request.QueryString.Value;
        if (query is not null && MayNameAKeyParameter(query))
        {
            RemoveKeyParameters(transform);
        }

        var path = transform.Path.Value;
        if (path is not null && path.Contains('%', StringComparison.Ordinal))
        {
            KeepEncodedSlashes(transform, path);
        }
    }

    /// <summary>True when a parameter name starts with <c>api</c> (any case): only then is the query parsed.</summary>
    private static bool MayNameAKeyParameter(string query)
    {
        for (var at = query.IndexOf("api", StringComparison.OrdinalIgnoreCase); at > 0; at = query.IndexOf("api", at + 3, StringComparison.OrdinalIgnoreCase))
        {
            if (query[at - 1] is '?' or '&')
            {
                return true;
            }
        }

        return false;
    }

    private static void RemoveKeyParameters(RequestTransformContext transform)
    {
        var parsed = transform.HttpContext.Request.Query;
        IDictionary<string, StringValues>? forwarded = null;
        foreach (var name in KeyParameters)
        {
            if (parsed.ContainsKey(name))
            {
                forwarded ??= transform.Query.Collection;
                forwarded.Remove(name);
            }
        }
    }

    private static void KeepEncodedSlashes(RequestTransformContext transform, string path)
    {
        var raw = transform.HttpContext.Features.Get<IHttpRequestFeature>()?.RawTarget ?? "";
        var rawPath = raw.AsSpan(0, raw.IndexOf('?', StringComparison.Ordinal) is var q and >= 0 ? q : raw.Length);
        if (rawPath.Contains("%25", StringComparison.Ordinal)
            || !path.Contains("%2F", StringComparison.OrdinalIgnoreCase)
            || HasDotSegment(path.Replace("%2F", "/", StringComparison.OrdinalIgnoreCase)))
        {
            return;
        }

        // PathString.ToUriComponent keeps valid escapes (here only %2F) and escapes everything else as YARP does.
        var prefix = transform.DestinationPrefix.AsSpan();
        if (prefix.EndsWith('/'))
        {
            prefix = prefix[..^1];
        }

        transform.ProxyRequest.RequestUri = new Uri(
            string.Concat(prefix, transform.Path.ToUriComponent(), transform.Query.QueryString.ToUriComponent()),
            UriKind.Absolute);
    }

    private static bool HasDotSegment(string path)
    {
        foreach (var segment in path.Split('/'))
        {
            if (segment is "." or "..")
            {
                return true;
            }
        }

        return false;
    }
}
