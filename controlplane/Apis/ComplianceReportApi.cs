using Gateway.ControlPlane.Compliance;
using Gateway.ControlPlane.Contracts;
using Gateway.ControlPlane.Http;
using Gateway.ControlPlane.OpenApi;
using Gateway.ControlPlane.Security;
using Gateway.Core.Problems;
using Gateway.Core.Validation;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Gateway.ControlPlane.Apis;

/// <summary>
/// <c>/admin/v1/compliance/reports/{customerId}</c>: a customer's month for compliance staff (admin, compliance), as
/// JSON, or one of its tables as CSV (<c>format=csv&amp;table=usage|flags</c>, a download).
/// </summary>
public static class ComplianceReportApi
{
    public static RouteGroupBuilder MapComplianceReportApi(this RouteGroupBuilder api)
    {
        api.MapGet("/compliance/reports/{customerId}", GetComplianceReport)
            .WithName(nameof(GetComplianceReport))
            .WithSummary("A customer's compliance report for a UTC month (period=yyyy-MM, default this month): usage by key, route group and day, quota consumption, licence terms in force, evidence, flags with their review decisions; JSON, or format=csv with table=usage or table=flags")
            .RequireAuthorization(ControlPlanePolicies.Review)
            .AlsoAnswersCsv()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound);
        return api;
    }

    public static async Task<Results<Ok<ComplianceReport>, FileContentHttpResult, ProblemHttpResult>> GetComplianceReport(
        string customerId, string? period, string? format, string? table, ComplianceReports reports, CancellationToken cancellationToken)
    {
        var invalid = InputRules.CustomerId("customerId", customerId)
            ?? (format is null or "json" or "csv" ? null : ApiProblem.Invalid("format", "must be json or csv."))
            ?? (format == "csv"
                ? table is "usage" or "flags" ? null : ApiProblem.Invalid("table", "must be usage or flags with format=csv.")
                : table is null ? null : ApiProblem.Invalid("table", "is only for format=csv."));
        if (invalid is not null)
        {
            return ProblemResults.From(invalid);
        }

        var report = await reports.BuildAsync(customerId, period, cancellationToken);
        if (!report.Succeeded)
        {
            return ProblemResults.From(report.Problem!);
        }

        return format == "csv"
            ? TypedResults.File(table == "usage" ? ComplianceReportCsv.Usage(report.Value!) : ComplianceReportCsv.Flags(report.Value!), UsageCsv.ContentType, ComplianceReports.FileName(report.Value!, table!))
            : TypedResults.Ok(report.Value!);
    }
}
