using Gateway.Core.Problems;
using Microsoft.AspNetCore.Mvc;

namespace Gateway.Proxy.Problems;

/// <summary>
/// Problems written off the hot path (fault handlers, malformed requests) go through ASP.NET's
/// <see cref="IProblemDetailsService"/>, so they get what <c>AddProblemDetails</c> configures (trace id,
/// <c>X-Content-Type-Options</c>). The data plane's refusals take the fast path instead (<see cref="DataPlaneProblems"/>);
/// both carry the title of their type (<see cref="ProblemTypes.Title"/>).
/// </summary>
public static class ProblemResponses
{
    public static async Task WriteAsync(HttpContext context, ApiProblem problem)
    {
        var details = new ProblemDetails { Type = problem.Type, Title = problem.Title, Status = problem.Status, Detail = problem.Detail };
        if (problem.Errors is not null)
        {
            details.Extensions["errors"] = problem.Errors;
        }

        context.Response.StatusCode = problem.Status;
        var service = context.RequestServices.GetRequiredService<IProblemDetailsService>();
        if (!await service.TryWriteAsync(new ProblemDetailsContext { HttpContext = context, ProblemDetails = details }))
        {
            // The client's Accept rules JSON out; it gets problem+json all the same, as Results.Problem would write it.
            await TypedResults.Problem(details).ExecuteAsync(context);
        }
    }
}
