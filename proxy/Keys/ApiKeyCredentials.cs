using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;

namespace Gateway.Proxy.Keys;

/// <summary>Where a caller may put its key: <c>Authorization: Bearer &lt;key&gt;</c> or <c>X-Api-Key: &lt;key&gt;</c>.</summary>
public static class ApiKeyCredentials
{
    public const string ApiKeyHeader = "X-Api-Key";
    private const string BearerPrefix = "Bearer ";

    public enum ReadResult
    {
        Found,
        Missing,

        /// <summary>Several keys, or a key in both headers that differ: refused rather than guessed.</summary>
        Ambiguous,
    }

    public static ReadResult TryRead(IHeaderDictionary headers, out ReadOnlySpan<char> key)
    {
        key = default;
        var apiKey = headers[ApiKeyHeader];
        var authorization = headers[HeaderNames.Authorization];
        if (apiKey.Count > 1 || authorization.Count > 1)
        {
            return ReadResult.Ambiguous;
        }

        ReadOnlySpan<char> bearer = default;
        var hasBearer = authorization.Count == 1 && TryBearer(authorization, out bearer);
        if (apiKey.Count == 1)
        {
            key = ((string?)apiKey ?? "").AsSpan().Trim();
            return hasBearer && !bearer.SequenceEqual(key) ? ReadResult.Ambiguous : ReadResult.Found;
        }

        if (hasBearer)
        {
            key = bearer;
            return ReadResult.Found;
        }

        return ReadResult.Missing;
    }

    private static bool TryBearer(StringValues authorization, out ReadOnlySpan<char> token)
    {
        var value = ((string?)authorization ?? "").AsSpan().Trim();
        if (value.Length > BearerPrefix.Length && value.StartsWith(BearerPrefix, StringComparison.OrdinalIgnoreCase))
        {
            token = value[BearerPrefix.Length..].Trim();
            return true;
        }

        token = default;
        return false;
    }
}
