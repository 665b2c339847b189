using Gateway.Core.Problems;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Gateway.ControlPlane.Http;

/// <summary>
/// Turns an <see cref="ApiProblem"/> into the one result both hosts write: <see cref="ProblemHttpResult"/>, which goes
/// through the host's <c>IProblemDetailsService</c> (application/problem+json, field errors under <c>errors</c>).
/// </summary>
public static class ProblemResults
{
    public static ProblemHttpResult From(ApiProblem problem) => TypedResults.Problem(
        problem.Detail,
        statusCode: problem.Status,
        title: problem.Title,
        type: problem.Type,
        extensions: problem.Errors is null ? null : new Dictionary<string, object?> { ["errors"] = problem.Errors });
}
