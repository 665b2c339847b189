using System.Net;
using System.Net.Http.Json;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Storage;

/// <summary>When Table Storage refuses, what needs it answers 503 <c>storage-unavailable</c> (retry), never a 500.</summary>
[Collection(UsesAzurite.Name)]
public sealed class StorageUnavailableTests(Azurite azurite) : SharedGatewayTest(azurite)
{
    private readonly StorageSwitch _storage = new();

    protected override void Services(IServiceCollection services) => services.AddSingleton(_storage.Options());

    [Fact]
    public async Task NewKey_WhileStorageRefuses_Returns503StorageUnavailable_AndWorksOnceStorageAnswers()
    {
        var customer = await Gateway.CreateCustomerAsync();
        var (_, cached) = await Gateway.IssueKeyAsync(customer);
        var (_, fresh) = await Gateway.IssueKeyAsync(customer);
        using (var warm = await Gateway.Data.SendAsync(TestGateway.Get("alpha/1", cached)))
        {
            Assert.Equal(HttpStatusCode.OK, warm.StatusCode);
        }

        _storage.Refuse();
        try
        {
            using var refused = await Gateway.Data.SendAsync(TestGateway.Get("alpha/1", fresh));
            using var usage = await Gateway.Data.SendAsync(TestGateway.Get("_gateway/usage", fresh));
            using var served = await Gateway.Data.SendAsync(TestGateway.Get("alpha/1", cached));

            // Two code paths (admission's pre-serialised body, the storage-fault handler behind /_gateway/usage), one title.
            var refusedBody = await Problems.AssertAsync(refused, 503, "urn:gateway:problem:storage-unavailable");
            Assert.Equal(TimeSpan.FromSeconds(1), refused.Headers.RetryAfter?.Delta);
            var usageBody = await Problems.AssertAsync(usage, 503, "urn:gateway:problem:storage-unavailable");
            Assert.Equal(refusedBody.GetProperty("title").GetString(), usageBody.GetProperty("title").GetString());
            Assert.Equal(TimeSpan.FromSeconds(1), usage.Headers.RetryAfter?.Delta);
            Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        }
        finally
        {
            _storage.Answer();
        }

        using var answered = await Gateway.Data.SendAsync(TestGateway.Get("alpha/1", fresh));
        Assert.Equal(HttpStatusCode.OK, answered.StatusCode);
        Assert.Equal(3, Upstream.Received.Count);
    }

    [Fact]
    public async Task AdminApi_WhileStorageRefuses_Returns503StorageUnavailable()
    {
        var customer = await Gateway.CreateCustomerAsync();

        _storage.Refuse();
        try
        {
            using var create = await Gateway.Admin.PostAsJsonAsync("admin/v1/customers", new { name = "Acme", email = "dev@acme.test" });
            using var read = await Gateway.Admin.GetAsync($"admin/v1/customers/{customer}");
            using var usage = await Gateway.Admin.GetAsync($"admin/v1/usage?customerId={customer}");

            await Problems.AssertAsync(create, 503, "urn:gateway:problem:storage-unavailable");
            await Problems.AssertAsync(read, 503, "urn:gateway:problem:storage-unavailable");
            await Problems.AssertAsync(usage, 503, "urn:gateway:problem:storage-unavailable");
        }
        finally
        {
            _storage.Answer();
        }

        using var again = await Gateway.Admin.GetAsync($"admin/v1/customers/{customer}");
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
    }
}
