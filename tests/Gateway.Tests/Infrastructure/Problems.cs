using System.Text.Json;
using Gateway.Core.Problems;

namespace Gateway.Tests.Infrastructure;

public static class Problems
{
    /// <summary>Asserts an RFC 9457 response with the given status, stable type and that type's one title; returns its body.</summary>
    public static async Task<JsonElement> AssertAsync(HttpResponseMessage response, int status, string type)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(status == (int)response.StatusCode, $"Expected {status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var json = JsonDocument.Parse(body).RootElement;
        Assert.Equal(type, json.GetProperty("type").GetString());
        Assert.Equal(status, json.GetProperty("status").GetInt32());
        Assert.Equal(ProblemTypes.Title(type), json.GetProperty("title").GetString());
        return json;
    }
}
