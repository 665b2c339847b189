using Gateway.Compliance;
using Gateway.ControlPlane.Apis;
using Gateway.ControlPlane.Audit;
using Gateway.ControlPlane.Security;
using Gateway.Core.Keys;
using Gateway.Functions.Admin;
using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;

namespace Gateway.Functions.Compliance;

/// <summary><c>POST /api/admin/v1/compliance/scan</c>: <see cref="ComplianceApi.ScanCompliance"/>.</summary>
public sealed class ScanComplianceFunction(ComplianceScan scan, AuditLog audit)
{
    [Function(nameof(ComplianceApi.ScanCompliance))]
    public Task<IResult> Run([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "admin/v1/compliance/scan")] HttpRequest request) =>
        AdminFunction.RunAsync(request, ControlPlanePolicies.Admin, () => ComplianceApi.ScanCompliance(request.HttpContext, scan, audit, request.HttpContext.RequestAborted));
}

/// <summary><c>GET /api/admin/v1/compliance/flags</c>: <see cref="ComplianceApi.ListComplianceFlags"/>.</summary>
public sealed class ListComplianceFlagsFunction(FlagTable flags)
{
    [Function(nameof(ComplianceApi.ListComplianceFlags))]
    public Task<IResult> Run([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "admin/v1/compliance/flags")] HttpRequest request) =>
        AdminFunction.RunAsync(request, ControlPlanePolicies.Review, () => ComplianceApi.ListComplianceFlags(Query(request), flags, request.HttpContext.RequestAborted));

    private static FlagQuery Query(HttpRequest request) => new(
        request.Query["customerId"].FirstOrDefault(),
        request.Query["keyId"].FirstOrDefault(),
        request.Query["kind"].FirstOrDefault(),
        request.Query["status"].FirstOrDefault(),
        int.TryParse(request.Query["limit"].FirstOrDefault(), System.Globalization.CultureInfo.InvariantCulture, out var limit) ? limit : null,
        request.Query["continuationToken"].FirstOrDefault());
}

/// <summary><c>POST /api/admin/v1/compliance/flags/{id}/review</c>: <see cref="ComplianceApi.ReviewComplianceFlag"/>.</summary>
public sealed class ReviewComplianceFlagFunction(FlagTable flags, ApiKeyService keys, AuditLog audit)
{
    [Function(nameof(ComplianceApi.ReviewComplianceFlag))]
    public Task<IResult> Run([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "admin/v1/compliance/flags/{id}/review")] HttpRequest request, string id) =>
        AdminFunction.RunAsync(request, ControlPlanePolicies.Review, () => ComplianceApi.ReviewComplianceFlag(id, request, flags, keys, audit, request.HttpContext.RequestAborted));
}

/// <summary><c>GET /api/admin/v1/compliance/lookup</c>: <see cref="ComplianceApi.LookupRecord"/>.</summary>
public sealed class LookupRecordFunction(RecordTable records, CanaryTable canaries)
{
    [Function(nameof(ComplianceApi.LookupRecord))]
    public Task<IResult> Run([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "admin/v1/compliance/lookup")] HttpRequest request) =>
        AdminFunction.RunAsync(request, ControlPlanePolicies.Review, () => ComplianceApi.LookupRecord(
            new(request.Query["recordId"].FirstOrDefault(), request.Query["day"].FirstOrDefault()), records, canaries, request.HttpContext.RequestAborted));
}

/// <summary><c>POST /api/admin/v1/compliance/canaries/found</c>: <see cref="ComplianceApi.ReportCanaryFound"/>.</summary>
public sealed class ReportCanaryFoundFunction(CanaryTable canaries, FlagTable flags, KeyLicences licences, IEnumerable<IComplianceFlagPublisher> publishers, AuditLog audit, TimeProvider time)
{
    [Function(nameof(ComplianceApi.ReportCanaryFound))]
    public Task<IResult> Run([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "admin/v1/compliance/canaries/found")] HttpRequest request) =>
        AdminFunction.RunAsync(request, ControlPlanePolicies.Review, () => ComplianceApi.ReportCanaryFound(request, canaries, flags, licences, publishers, audit, time, request.HttpContext.RequestAborted));
}
