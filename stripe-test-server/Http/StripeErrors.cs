using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Gateway.StripeTestServer.Http;

/// <summary>
/// Stripe's error body, <c>{"error":{"type","code","param","message"}}</c>, with the status codes Stripe answers with.
/// Stripe.net turns these into <c>StripeException</c> with <c>StripeError</c> filled in.
/// </summary>
public static class StripeErrors
{
    public const string InvalidRequest = "invalid_request_error";
    public const string ApiError = "api_error";

    public static IResult Missing(string param) =>
        Error(400, InvalidRequest, "parameter_missing", $"Missing required param: {param}.", param);

    public static IResult Invalid(string param, string message) =>
        Error(400, InvalidRequest, "parameter_invalid", message, param);

    public static IResult NotFound(string kind, string id, string param = "id") =>
        Error(404, InvalidRequest, "resource_missing", $"No such {kind}: '{id}'", param);

    public static IResult AlreadyExists(string param, string message) =>
        Error(400, InvalidRequest, "resource_already_exists", message, param);

    public static IResult Error(int status, string type, string? code, string message, string? param = null)
    {
        var error = new JsonObject { ["type"] = type, ["message"] = message };
        if (code is not null)
        {
            error["code"] = code;
        }

        if (param is not null)
        {
            error["param"] = param;
        }

        return new StripeJson(new JsonObject { ["error"] = error }, status);
    }
}

/// <summary>A JSON body with a status code, written as Stripe writes it (<c>application/json</c>, <c>Request-Id</c>).</summary>
public sealed class StripeJson(JsonNode body, int status = 200) : IResult
{
    public JsonNode Body { get; } = body;

    public int Status { get; } = status;

    public Task ExecuteAsync(HttpContext httpContext)
    {
        httpContext.Response.StatusCode = Status;
        httpContext.Response.ContentType = "application/json";
        httpContext.Response.Headers["Request-Id"] = "req_" + Guid.NewGuid().ToString("N")[..14];
        return httpContext.Response.WriteAsync(Body.ToJsonString(), CancellationToken.None);
    }
}
