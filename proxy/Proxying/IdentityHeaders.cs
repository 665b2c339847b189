using Gateway.Proxy.Keys;
using Microsoft.Net.Http.Headers;
using Yarp.ReverseProxy.Transforms;
using Yarp.ReverseProxy.Transforms.Builder;

namespace Gateway.Proxy.Proxying;

/// <summary>
/// What the upstream learns about the caller. The key itself never leaves the gateway: <c>Authorization</c> and
/// <c>X-Api-Key</c> are removed. The caller's identity is sent in <c>X-Gateway-*</c> headers, and any copies the
/// client sent are removed first so they cannot be spoofed. <c>X-Forwarded-*</c> are set by YARP's default
/// transform, which replaces whatever the client sent (the client is untrusted); <c>Forwarded</c> is dropped.
/// </summary>
public sealed class IdentityHeaders : ITransformProvider
{
    public const string CustomerId = "X-Gateway-Customer-Id";
    public const string KeyId = "X-Gateway-Key-Id";
    public const string Plan = "X-Gateway-Plan";
    public const string RouteGroup = "X-Gateway-Route-Group";

    private static readonly string[] Removed =
        [HeaderNames.Authorization, ApiKeyCredentials.ApiKeyHeader, "Forwarded", CustomerId, KeyId, Plan, RouteGroup];

    public void ValidateRoute(TransformRouteValidationContext context)
    {
    }

    public void ValidateCluster(TransformClusterValidationContext context)
    {
    }

    public void Apply(TransformBuilderContext context)
    {
        var routeGroup = context.Route.Metadata?.GetValueOrDefault(RouteGroups.MetadataKey) ?? "";
        context.AddRequestTransform(transform =>
        {
            foreach (var header in Removed)
            {
                RequestTransform.RemoveHeader(transform, header);
            }

            if (transform.HttpContext.Features.Get<ApiCaller>() is { } caller)
            {
                var headers = transform.ProxyRequest.Headers;
                headers.TryAddWithoutValidation(CustomerId, caller.CustomerId);
                headers.TryAddWithoutValidation(KeyId, caller.KeyId);
                headers.TryAddWithoutValidation(Plan, caller.Plan.Name);
                headers.TryAddWithoutValidation(RouteGroup, routeGroup);
            }

            return ValueTask.CompletedTask;
        });
    }
}
