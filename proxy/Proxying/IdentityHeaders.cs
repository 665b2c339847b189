using System.Collections.Frozen;
using System.Net.Http.Headers;
using Gateway.Proxy.Hosting;
using Gateway.Proxy.Keys;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using Yarp.ReverseProxy.Transforms;
using Yarp.ReverseProxy.Transforms.Builder;

namespace Gateway.Proxy.Proxying;

/// <summary>
/// What the upstream learns about the caller. The key itself never leaves the gateway: <c>Authorization</c> and
/// <c>X-Api-Key</c> are removed, and so are <c>api_key</c>-style query parameters (<see cref="ForwardedTarget"/>).
/// The caller's identity is sent in <c>X-Gateway-*</c> headers, and any copies the client sent are removed first so
/// they cannot be spoofed; so are headers some servers act on as if a proxy had set them (client address, URL
/// rewrites, method overrides). <c>X-Forwarded-*</c> are set by YARP's default transforms, which replace whatever
/// the client sent; <c>Forwarded</c> is dropped. With <c>Gateway:Listen:TrustedProxies</c> set, a trusted proxy's
/// <c>X-Forwarded-For</c> chain is kept and the client's real address appended (see
/// <see cref="Listeners.UseForwardedClientAddress"/>). The upstream's <c>Server</c> header is not passed back.
/// </summary>
public sealed class IdentityHeaders(IOptions<ListenerOptions> listen) : ITransformProvider
{
    public const string CustomerId = "X-Gateway-Customer-Id";
    public const string KeyId = "X-Gateway-Key-Id";
    public const string Plan = "X-Gateway-Plan";
    public const string RouteGroup = "X-Gateway-Route-Group";

    private static readonly FrozenSet<string> Removed = new[]
    {
        HeaderNames.Authorization, ApiKeyCredentials.ApiKeyHeader, "Forwarded", CustomerId, KeyId, Plan, RouteGroup,

        // Set by proxies in front of a server, acted on by many: a client's copy would be believed upstream.
        "X-Real-IP", "X-Original-URL", "X-Original-Host", "X-Rewrite-URL",
        ForwardedHeadersDefaults.XOriginalForHeaderName, ForwardedHeadersDefaults.XOriginalProtoHeaderName,
        "X-HTTP-Method-Override", "X-HTTP-Method", "X-Method-Override",
    }.ToFrozenSet(StringComparer.OrdinalIgnoreCase);

    private readonly bool _trustsProxies = listen.Value.TrustedProxies.Count > 0;

    public void ValidateRoute(TransformRouteValidationContext context)
    {
    }

    public void ValidateCluster(TransformClusterValidationContext context)
    {
    }

    public void Apply(TransformBuilderContext context)
    {
        var routeGroup = context.Route.Metadata?.GetValueOrDefault(RouteGroups.MetadataKey) ?? "";
        var trustsProxies = _trustsProxies && context.UseDefaultForwarders != false;
        context.AddRequestTransform(transform =>
        {
            RemoveClientCopies(transform.ProxyRequest.Headers);

            // The forwarded-headers middleware records the peer in X-Original-For only when it trusted it (a client's
            // copy is removed before it runs). Otherwise the chain is the client's word: the appended peer replaces it.
            if (trustsProxies && !transform.HttpContext.Request.Headers.ContainsKey(ForwardedHeadersDefaults.XOriginalForHeaderName))
            {
                RequestTransform.RemoveHeader(transform, ForwardedHeadersDefaults.XForwardedForHeaderName);
            }

            if (transform.HttpContext.Features.Get<ApiCaller>() is { } caller)
            {
                var headers = transform.ProxyRequest.Headers;
                headers.TryAddWithoutValidation(CustomerId, caller.CustomerId);
                headers.TryAddWithoutValidation(KeyId, caller.KeyId);
                headers.TryAddWithoutValidation(Plan, caller.Plan.Name);
                headers.TryAddWithoutValidation(RouteGroup, routeGroup);
            }

            ForwardedTarget.Apply(transform);
            return ValueTask.CompletedTask;
        });

        if (trustsProxies)
        {
            // YARP's defaults, except that X-Forwarded-For appends to the chain a trusted proxy sent.
            context.UseDefaultForwarders = false;
            context.AddXForwardedFor(action: ForwardedTransformActions.Append);
            context.AddXForwardedProto();
            context.AddXForwardedHost();
            context.AddXForwardedPrefix();
        }

        context.AddResponseTransform(transform =>
        {
            transform.HttpContext.Response.Headers.Server = default;
            return ValueTask.CompletedTask;
        });
    }

    /// <summary>
    /// One pass over the few headers a request has, instead of a lookup for each of the many names removed; headers
    /// cannot be removed while they are enumerated, so each removal starts a new pass (usually one: the key's header).
    /// </summary>
    private static void RemoveClientCopies(HttpRequestHeaders headers)
    {
        while (FirstRemoved(headers) is { } name)
        {
            headers.Remove(name);
        }
    }

    private static string? FirstRemoved(HttpRequestHeaders headers)
    {
        foreach (var header in headers.NonValidated)
        {
            if (Removed.Contains(header.Key))
            {
                return header.Key;
            }
        }

        return null;
    }
}
