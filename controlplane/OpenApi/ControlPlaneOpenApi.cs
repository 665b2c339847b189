using Gateway.ControlPlane.Http;
using Gateway.ControlPlane.Security;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.OpenApi;
using Scalar.AspNetCore;

namespace Gateway.ControlPlane.OpenApi;

/// <summary>
/// The admin API's contract, generated from the endpoints (<c>/openapi/v1.json</c>), and Scalar's interactive
/// reference (<c>/scalar</c>). Each operation lists the roles its policy allows (<c>x-roles</c>, and in words in its
/// description) and every problem response it can give.
/// </summary>
public static class ControlPlaneOpenApi
{
    public const string DocumentName = "v1";
    public const string RolesExtension = "x-roles";

    public static IServiceCollection AddControlPlaneOpenApi(this IServiceCollection services) =>
        services.AddOpenApi(DocumentName, o =>
        {
            o.ShouldInclude = d => (d.RelativePath?.StartsWith("admin/v1", StringComparison.Ordinal) == true || "/" + d.RelativePath == Apis.StripeWebhookApi.Route)
                && d.ActionDescriptor.EndpointMetadata.OfType<AdminPlaneEndpoint>().Any();
            o.AddDocumentTransformer((document, _, _) =>
            {
                document.Info = new OpenApiInfo
                {
                    Title = "Gateway admin API",
                    Version = DocumentName,
                    Description = "Customers, keys, plans, usage, role tokens and the audit log. Send 'Authorization: Bearer <token>'.",
                };
                return Task.CompletedTask;
            });
            o.AddOperationTransformer((operation, context, _) =>
            {
                var roles = context.Description.ActionDescriptor.EndpointMetadata.OfType<IAuthorizeData>()
                    .Select(a => a.Policy)
                    .OfType<string>()
                    .SelectMany(p => ControlPlanePolicies.Allowed.TryGetValue(p, out var allowed) ? allowed : [])
                    .Distinct()
                    .ToList();
                var list = new System.Text.Json.Nodes.JsonArray([.. roles.Select(r => (System.Text.Json.Nodes.JsonNode)r)]);
                operation.Extensions ??= new Dictionary<string, IOpenApiExtension>();
                operation.Extensions[RolesExtension] = new JsonNodeExtension(list);
                operation.Description = $"Roles: {string.Join(", ", roles)}.";
                return Task.CompletedTask;
            });
        });

    /// <summary>Maps the document and the Scalar page on the admin plane, readable without a token.</summary>
    public static void MapControlPlaneOpenApi(this IEndpointRouteBuilder app)
    {
        app.MapOpenApi("/openapi/{documentName}.json").WithMetadata(AdminPlaneEndpoint.Instance).AllowAnonymous();
        app.MapScalarApiReference("/scalar", o => o.Title = "Gateway admin API")
            .WithMetadata(AdminPlaneEndpoint.Instance)
            .AllowAnonymous();
    }
}
