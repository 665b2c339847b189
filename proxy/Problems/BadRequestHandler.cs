using System.Text.Json;
using Gateway.Core.Problems;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http.Features;

namespace Gateway.Proxy.Problems;

/// <summary>
/// A request found malformed while an endpoint read it (a body over the limit, broken framing, a body or parameter
/// that does not bind): the client's mistake, so a 4xx problem with a stable type instead of the generic 500.
/// Minimal-API binding failures reach it because <c>RouteHandlerOptions.ThrowOnBadRequest</c> is on.
/// </summary>
public sealed class BadRequestHandler : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is not BadHttpRequestException bad || httpContext.Response.HasStarted)
        {
            return false;
        }

        var problem = bad.StatusCode == StatusCodes.Status413PayloadTooLarge
            ? ApiProblem.BodyTooLarge(httpContext.Features.Get<IHttpMaxRequestBodySizeFeature>()?.MaxRequestBodySize ?? 0)
            : bad.InnerException is JsonException json
                ? ApiProblem.Invalid(JsonField(json.Path), "is not valid JSON of the expected shape.")
                : ApiProblem.Invalid("request", "could not be read.") with { Status = bad.StatusCode is >= 400 and < 500 ? bad.StatusCode : 400 };
        await ProblemResponses.WriteAsync(httpContext, problem);
        return true;
    }

    /// <summary>The field a JSON path names (<c>$.name</c> → <c>name</c>), or <c>body</c> for the whole document.</summary>
    public static string JsonField(string? path) =>
        string.IsNullOrEmpty(path) || path == "$" ? "body" : path.TrimStart('$', '.');
}
