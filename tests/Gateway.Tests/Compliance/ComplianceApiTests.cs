using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Gateway.Compliance;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Compliance;

/// <summary>The compliance admin API: scan now, list flags by filter, review open → acknowledged → dismissed | confirmed.</summary>
[Collection(UsesAzurite.Name)]
public sealed class ComplianceApiTests(Azurite azurite) : SharedGatewayTest(azurite)
{
    protected override void Settings(Dictionary<string, string?> settings)
    {
        settings["Gateway:Compliance:FlushInterval"] = "01:00:00";
        settings["Gateway:Compliance:Plans:narrow:Detection:UnlicensedRouteAttempts"] = "2";
    }

    [Fact]
    public async Task Scan_AnswersTheFlagsItRaised_AndListFiltersThemByCustomerKindAndStatus()
    {
        var (customer, id) = await UnlicensedCallsAsync();

        using var scan = await Gateway.Admin.PostAsync("admin/v1/compliance/scan", null);
        var listed = await Gateway.Admin.GetFromJsonAsync<JsonElement>($"admin/v1/compliance/flags?customerId={customer}&kind=unlicensed_route&status=open");
        var none = await Gateway.Admin.GetFromJsonAsync<JsonElement>($"admin/v1/compliance/flags?customerId={customer}&kind=key_sharing");
        using var badKind = await Gateway.Admin.GetAsync("admin/v1/compliance/flags?kind=sharing");

        Assert.Equal(HttpStatusCode.OK, scan.StatusCode);
        var raised = (await scan.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("items").EnumerateArray().Where(f => f.GetProperty("keyId").GetString() == id).ToList();
        Assert.Equal("unlicensed_route", Assert.Single(raised).GetProperty("kind").GetString());
        var flag = Assert.Single(listed.GetProperty("items").EnumerateArray());
        Assert.Equal(id, flag.GetProperty("keyId").GetString());
        Assert.Equal(3, flag.GetProperty("evidence").GetProperty("attempts").GetInt64());
        Assert.False(string.IsNullOrEmpty(flag.GetProperty("summary").GetString()));
        Assert.Empty(none.GetProperty("items").EnumerateArray());
        await Problems.AssertAsync(badKind, 400, "urn:gateway:problem:invalid-request");
    }

    [Fact]
    public async Task Review_FollowsOpenAcknowledgedConfirmed_RefusesOtherSteps_AndConfirmingSuspendsTheKey()
    {
        var (_, id) = await UnlicensedCallsAsync();
        var flag = Assert.Single(await Gateway.Services.GetRequiredService<ComplianceScan>().RunAsync(default), f => f.KeyId == id);

        using var skip = await ReviewAsync(flag.Id, new { status = "confirmed", note = "too early" });
        using var acknowledge = await ReviewAsync(flag.Id, new { status = "acknowledged", note = "looking into it" });
        using var confirm = await ReviewAsync(flag.Id, new { status = "confirmed", note = "crawler confirmed", suspendKey = true });
        using var again = await ReviewAsync(flag.Id, new { status = "dismissed", note = "changed my mind" });
        using var missing = await ReviewAsync(id + ".unlicensed_route.000099", new { status = "acknowledged" });

        await Problems.AssertAsync(skip, 409, "urn:gateway:problem:conflict");
        Assert.Equal(HttpStatusCode.OK, acknowledge.StatusCode);
        Assert.Equal(HttpStatusCode.OK, confirm.StatusCode);
        Assert.Equal(id, (await confirm.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("suspendedKeyId").GetString());
        await Problems.AssertAsync(again, 409, "urn:gateway:problem:conflict");
        await Problems.AssertAsync(missing, 404, "urn:gateway:problem:not-found");
        var key = await Gateway.Admin.GetFromJsonAsync<JsonElement>($"admin/v1/keys/{id}");
        Assert.Equal("suspended", key.GetProperty("status").GetString());
        var audit = await Gateway.Admin.GetFromJsonAsync<JsonElement>("admin/v1/audit?limit=1000");
        var actions = audit.GetProperty("items").EnumerateArray()
            .Where(e => e.GetProperty("target").GetString() is { } t && (t == id || t == flag.Id))
            .Select(e => e.GetProperty("action").GetString()).ToList();
        Assert.Equal(2, actions.Count(a => a == "compliance.flag-reviewed"));
        Assert.Contains("key.suspended", actions);
    }

    private Task<HttpResponseMessage> ReviewAsync(string flagId, object body) =>
        Gateway.Admin.PostAsJsonAsync($"admin/v1/compliance/flags/{flagId}/review", body);

    private async Task<(string Customer, string KeyId)> UnlicensedCallsAsync()
    {
        var customer = await Gateway.CreateCustomerAsync();
        var (id, key) = await Gateway.IssueKeyAsync(customer, "narrow");
        for (var i = 0; i < 3; i++)
        {
            using var refused = await Gateway.Data.SendAsync(TestGateway.Get("beta/1", key));
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        }

        await Gateway.Services.GetRequiredService<EvidenceRecorder>().FlushAsync(default);
        return (customer, id);
    }
}
