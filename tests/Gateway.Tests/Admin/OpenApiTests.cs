using System.Net;
using System.Text.Json;
using global::Gateway.ControlPlane.Security;
using Gateway.Tests.Infrastructure;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Routing;

namespace Gateway.Tests.Admin;

/// <summary>The admin API's contract is served on the admin port, lists every endpoint with its roles and problem responses.</summary>
[Collection(UsesAzurite.Name)]
public sealed class OpenApiTests(Azurite azurite) : SharedGatewayTest(azurite)
{
    [Fact]
    public async Task OpenApiDocument_ListsEveryEndpoint_WithItsRolesAndProblemResponses()
    {
        using var anonymous = new HttpClient { BaseAddress = Gateway.Admin.BaseAddress };
        var json = await anonymous.GetStringAsync("openapi/v1.json");
        var document = JsonDocument.Parse(json).RootElement;
        var endpoints = ((IEndpointRouteBuilder)Gateway.App).DataSources.SelectMany(d => d.Endpoints).OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText!.StartsWith("/admin/v1", StringComparison.Ordinal) || e.RoutePattern.RawText == global::Gateway.ControlPlane.Apis.StripeWebhookApi.Route)
            .ToList();

        Assert.StartsWith("3.", document.GetProperty("openapi").GetString(), StringComparison.Ordinal);
        var paths = document.GetProperty("paths");
        var listed = paths.EnumerateObject().Sum(p => p.Value.EnumerateObject().Count());
        Assert.Equal(endpoints.Count, listed);
        foreach (var endpoint in endpoints)
        {
            var method = endpoint.Metadata.GetMetadata<IHttpMethodMetadata>()!.HttpMethods.Single().ToLowerInvariant();
            var name = endpoint.Metadata.GetMetadata<IEndpointNameMetadata>()!.EndpointName;
            Assert.True(paths.TryGetProperty(endpoint.RoutePattern.RawText!, out var path), $"{endpoint.RoutePattern.RawText} is not in the document.");
            var operation = path.GetProperty(method);
            Assert.Equal(name, operation.GetProperty("operationId").GetString());
            Assert.False(string.IsNullOrWhiteSpace(operation.GetProperty("summary").GetString()));

            if (endpoint.Metadata.GetMetadata<IAllowAnonymous>() is not null)
            {
                // The portal's sign-in and sign-out (gateway only) and the Stripe webhook (signature-authenticated): no
                // policy, so no roles; they refuse with problems too.
                Assert.Empty(endpoint.Metadata.GetOrderedMetadata<IAuthorizeData>());
                Assert.True(!operation.TryGetProperty("x-roles", out var none) || none.GetArrayLength() == 0, $"{name} names roles but allows anyone.");
                continue;
            }

            var policy = endpoint.Metadata.GetOrderedMetadata<IAuthorizeData>().Single().Policy!;
            Assert.Equal(ControlPlanePolicies.Allowed[policy], operation.GetProperty("x-roles").EnumerateArray().Select(r => r.GetString()));

            var problems = endpoint.Metadata.OfType<IProducesResponseTypeMetadata>()
                .Where(p => p.StatusCode >= 400)
                .Select(p => p.StatusCode.ToString(System.Globalization.CultureInfo.InvariantCulture))
                .Distinct()
                .ToList();
            Assert.Contains("401", problems);
            Assert.Contains("403", problems);
            foreach (var status in problems)
            {
                Assert.True(operation.GetProperty("responses").TryGetProperty(status, out var response), $"{name}: no {status} response in the document.");
                Assert.True(response.GetProperty("content").TryGetProperty("application/problem+json", out _), $"{name}: {status} is not problem+json.");
            }
        }
    }

    [Fact]
    public async Task OpenApiDocument_Usage_AnswersJsonOrCsv_AndListsItsFilters()
    {
        using var anonymous = new HttpClient { BaseAddress = Gateway.Admin.BaseAddress };
        var document = JsonDocument.Parse(await anonymous.GetStringAsync("openapi/v1.json")).RootElement;

        var usage = document.GetProperty("paths").GetProperty("/admin/v1/usage").GetProperty("get");
        var content = usage.GetProperty("responses").GetProperty("200").GetProperty("content");
        var parameters = usage.GetProperty("parameters").EnumerateArray().Select(p => p.GetProperty("name").GetString()).ToList();
        var audit = document.GetProperty("paths").GetProperty("/admin/v1/audit").GetProperty("get");

        Assert.True(content.TryGetProperty("application/json", out _), content.ToString());
        Assert.True(content.TryGetProperty("text/csv", out _), content.ToString());
        Assert.Equal(["customerId", "keyId", "routeGroup", "from", "to", "granularity"], parameters);
        Assert.Equal(
            ["search", "from", "to", "limit", "continuationToken"],
            document.GetProperty("paths").GetProperty("/admin/v1/usage/customers").GetProperty("get").GetProperty("parameters").EnumerateArray().Select(p => p.GetProperty("name").GetString()));
        Assert.Equal(
            ["from", "to", "actor", "target", "action", "continuationToken", "limit"],
            audit.GetProperty("parameters").EnumerateArray().Select(p => p.GetProperty("name").GetString()));
    }

    [Fact]
    public async Task Scalar_IsServedOnTheAdminPort_AndNeitherIsOnTheDataPort()
    {
        using var anonymous = new HttpClient { BaseAddress = Gateway.Admin.BaseAddress };
        using var scalar = await anonymous.GetAsync("scalar");
        using var documentOnDataPort = await Gateway.Data.GetAsync("openapi/v1.json");
        using var scalarOnDataPort = await Gateway.Data.GetAsync("scalar");

        Assert.Equal(HttpStatusCode.OK, scalar.StatusCode);
        Assert.Equal("text/html", scalar.Content.Headers.ContentType?.MediaType);
        await Problems.AssertAsync(documentOnDataPort, 404, "urn:gateway:problem:route-not-found");
        await Problems.AssertAsync(scalarOnDataPort, 404, "urn:gateway:problem:route-not-found");
    }
}
