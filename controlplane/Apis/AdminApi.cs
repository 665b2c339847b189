using Gateway.ControlPlane.Http;
using Gateway.ControlPlane.Security;
using Gateway.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Gateway.ControlPlane.Apis;

/// <summary>
/// The admin API (<c>/admin/v1</c>): every operation of the control plane, each a named static handler the function
/// app wraps too. Endpoints carry <see cref="AdminPlaneEndpoint"/> (admin port only) and
/// <see cref="ControlPlaneOperation"/> (served by both hosts); each declares its policy (the roles it allows).
/// </summary>
public static class AdminApi
{
    public const string Prefix = "/admin/v1";

    /// <summary>The <c>/admin/v1</c> group with its body limit and sign-in, for hosts to add their own admin endpoints to.</summary>
    public static RouteGroupBuilder MapAdminGroup(this IEndpointRouteBuilder app)
    {
        var bodyLimit = new AdminBodyLimit(app.ServiceProvider.GetRequiredService<IOptions<GatewayOptions>>().Value.Admin.MaxBodyBytes);
        return app.MapGroup(Prefix)
            .WithMetadata(AdminPlaneEndpoint.Instance, bodyLimit)
            .WithTags("admin");
    }

    /// <summary>Maps every control-plane operation under <c>/admin/v1</c>.</summary>
    public static RouteGroupBuilder MapAdminApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapAdminGroup();
        var operations = api.MapGroup("")
            .WithMetadata(ControlPlaneOperation.Instance)
            .ProducesProblem(401)
            .ProducesProblem(403);
        operations.MapCustomersApi();
        operations.MapKeysApi();
        operations.MapBulkKeysApi();
        operations.MapPlansApi();
        operations.MapUsageApi();
        operations.MapTokensApi();
        operations.MapAuditApi();
        operations.MapBillingApi();
        operations.MapComplianceApi();
        operations.MapComplianceReportApi();
        return api;
    }
}
