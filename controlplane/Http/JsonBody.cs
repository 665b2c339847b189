using System.Buffers;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Serialization;
using Gateway.Core;
using Gateway.Core.Problems;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace Gateway.ControlPlane.Http;

/// <summary>
/// Reads an admin request's JSON body the same way in both hosts, turning every way it can be wrong into a problem:
/// 413 over <c>Gateway:Admin:MaxBodyBytes</c> (refused before reading when Content-Length says so, else as soon as the
/// limit is passed), otherwise 400 naming the field. The body is read whole (it is small) before it is parsed, so a
/// body that is cut off or too large never reaches a handler half-parsed.
/// </summary>
public static class JsonBody
{
    public static async Task<Outcome<T>> ReadAsync<T>(HttpRequest request, CancellationToken cancellationToken)
        where T : class
    {
        if (!request.HasJsonContentType() || !MediaTypeHeaderValue.TryParse(request.ContentType, out var mediaType))
        {
            return ApiProblem.Invalid("body", "must be JSON (Content-Type: application/json).");
        }

        if (mediaType.Charset is { HasValue: true } charset && !charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase))
        {
            return ApiProblem.Invalid("body", "must be UTF-8 JSON (no charset, or charset=utf-8).");
        }

        var services = request.HttpContext.RequestServices;
        var limit = services.GetRequiredService<IOptions<GatewayOptions>>().Value.Admin.MaxBodyBytes;
        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } feature
            && (feature.MaxRequestBodySize is null || feature.MaxRequestBodySize > limit))
        {
            feature.MaxRequestBodySize = limit;
        }

        if (request.ContentLength > limit)
        {
            return ApiProblem.BodyTooLarge(limit);
        }

        var body = new ArrayBufferWriter<byte>((int)Math.Min(request.ContentLength ?? 4096, limit) + 1);
        try
        {
            int read;
            while ((read = await request.Body.ReadAsync(body.GetMemory(4096), cancellationToken)) > 0)
            {
                body.Advance(read);
                if (body.WrittenCount > limit)
                {
                    return ApiProblem.BodyTooLarge(limit);
                }
            }
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return ApiProblem.BodyTooLarge(limit);
        }

        var json = Strict(services.GetService<IOptions<JsonOptions>>()?.Value.SerializerOptions ?? JsonSerializerOptions.Web);
        try
        {
            return JsonSerializer.Deserialize<T>(body.WrittenSpan, json) is { } value ? value : ApiProblem.Invalid("body", "must be a JSON object.");
        }
        catch (JsonException e)
        {
            return ApiProblem.Invalid(Field(e.Path), "is not valid JSON of the expected shape.");
        }
        catch (InvalidOperationException)
        {
            // The reader refuses text that is not UTF-8 with this exception rather than a JsonException.
            return ApiProblem.Invalid("body", "is not valid UTF-8 JSON.");
        }
    }

    /// <summary>
    /// The host's serializer options, refusing members the request type does not have (a misspelt field is a 400
    /// naming it, never silently ignored). Derived once per host options instance.
    /// </summary>
    private static JsonSerializerOptions Strict(JsonSerializerOptions options) =>
        options.UnmappedMemberHandling == JsonUnmappedMemberHandling.Disallow
            ? options
            : StrictOptions.GetValue(options, o => new JsonSerializerOptions(o) { UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow });

    private static readonly ConditionalWeakTable<JsonSerializerOptions, JsonSerializerOptions> StrictOptions = new();

    /// <summary>The field a JSON path names (<c>$.name</c> → <c>name</c>), or <c>body</c> for the whole document.</summary>
    public static string Field(string? path) =>
        string.IsNullOrEmpty(path) || path == "$" ? "body" : path.TrimStart('$', '.');
}
