using System.Text.Json;
using Gateway.Core.Problems;

namespace Gateway.Proxy.Problems;

/// <summary>
/// The data plane's RFC 9457 responses, one per <see cref="Rejection"/> (<see cref="Rejections"/> says which problem
/// each is). Bodies are serialized once at start and written as bytes, so refusing a call (the cheap answer to abuse)
/// stays cheap.
/// </summary>
public static class DataPlaneProblems
{
    public const string ContentType = "application/problem+json";

    /// <summary><c>X-Content-Type-Options</c> on every response the gateway writes itself: browsers must not sniff it as HTML.</summary>
    public const string NoSniff = "nosniff";

    private static readonly JsonSerializerOptions Json = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    private static readonly byte[][] Bodies = [.. Enum.GetValues<Rejection>().Select(r => Serialize(r.Problem()))];

    public static Task WriteAsync(HttpContext context, Rejection rejection, int retryAfterSeconds = 0)
    {
        var response = context.Response;
        if (response.HasStarted)
        {
            return Task.CompletedTask;
        }

        response.StatusCode = rejection.Status();
        response.ContentType = ContentType;
        response.Headers.CacheControl = "no-store";
        response.Headers.XContentTypeOptions = NoSniff;
        if (response.StatusCode == 401)
        {
            response.Headers.WWWAuthenticate = "Bearer realm=\"gateway\"";
        }

        if (retryAfterSeconds > 0)
        {
            response.Headers.RetryAfter = HeaderValues.Number(retryAfterSeconds);
        }

        var body = Bodies[(int)rejection];
        response.ContentLength = body.Length;
        return response.Body.WriteAsync(body, 0, body.Length, context.RequestAborted);
    }

    /// <summary>405 with the <c>Allow</c> header a 405 must carry.</summary>
    public static Task WriteMethodNotAllowedAsync(HttpContext context, string allow)
    {
        if (!context.Response.HasStarted)
        {
            context.Response.Headers.Allow = allow;
        }

        return WriteAsync(context, Rejection.MethodNotAllowed);
    }

    private static byte[] Serialize(ApiProblem p) => JsonSerializer.SerializeToUtf8Bytes(
        new { type = p.Type, title = p.Title, status = p.Status, detail = p.Detail },
        Json);
}

/// <summary>Header values for small numbers, formatted once instead of on every response.</summary>
public static class HeaderValues
{
    private static readonly string[] Small = Enumerable.Range(0, 4096).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();

    public static string Number(long value) =>
        value >= 0 && value < Small.Length ? Small[value] : value.ToString(System.Globalization.CultureInfo.InvariantCulture);

}
