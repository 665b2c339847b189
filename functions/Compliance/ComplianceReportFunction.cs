using Gateway.ControlPlane.Apis;
using Gateway.ControlPlane.Compliance;
using Gateway.ControlPlane.Security;
using Gateway.Functions.Admin;
using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;

namespace Gateway.Functions.Compliance;

/// <summary><c>GET /api/admin/v1/compliance/reports/{customerId}</c>: <see cref="ComplianceReportApi.GetComplianceReport"/>.</summary>
public sealed class GetComplianceReportFunction(ComplianceReports reports)
{
    [Function(nameof(ComplianceReportApi.GetComplianceReport))]
    public Task<IResult> Run([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "admin/v1/compliance/reports/{customerId}")] HttpRequest request, string customerId) =>
        AdminFunction.RunAsync(request, ControlPlanePolicies.Review, () => ComplianceReportApi.GetComplianceReport(
            customerId,
            request.Query["period"].FirstOrDefault(),
            request.Query["format"].FirstOrDefault(),
            request.Query["table"].FirstOrDefault(),
            reports,
            request.HttpContext.RequestAborted));
}
