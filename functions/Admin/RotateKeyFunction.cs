using Gateway.Compliance;
using Gateway.ControlPlane.Apis;
using Gateway.ControlPlane.Audit;
using Gateway.ControlPlane.Security;
using Gateway.Core;
using Gateway.Core.Keys;
using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Options;

namespace Gateway.Functions.Admin;

/// <summary><c>POST /api/admin/v1/keys/{id}/rotate</c>: <see cref="KeysApi.RotateKey"/>.</summary>
public sealed class RotateKeyFunction(ApiKeyService keys, KeyLicences licences, AuditLog audit, IOptions<GatewayOptions> options)
{
    [Function(nameof(KeysApi.RotateKey))]
    public Task<IResult> Run([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "admin/v1/keys/{id}/rotate")] HttpRequest request, string id) =>
        AdminFunction.RunAsync(request, ControlPlanePolicies.ManageKeys, () => KeysApi.RotateKey(id, request, keys, licences, audit, options, request.HttpContext.RequestAborted));
}
