using System.Net.Http.Json;
using System.Text.Json;
using Gateway.Compliance;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Compliance;

/// <summary>Licence terms per plan, a purpose declared at issuance, the terms stored with the key (versioned) and shown to the developer.</summary>
[Collection(UsesAzurite.Name)]
public sealed class LicenceTermsTests(Azurite azurite) : SharedGatewayTest(azurite)
{
    private static readonly string[] ResearchOnly = ["research"];

    protected override void Settings(Dictionary<string, string?> settings)
    {
        settings["Gateway:Compliance:Plans:narrow:Purposes:0"] = "display";
        settings["Gateway:Compliance:Plans:narrow:MaxClientNetworks"] = "3";
        settings["Gateway:Compliance:Plans:narrow:DailyRecordCap"] = "5000";
        settings["Gateway:Compliance:Plans:open:Purposes:0"] = "analytics";
        settings["Gateway:Compliance:Plans:open:Purposes:1"] = "ai-training";
        settings["Gateway:Compliance:Plans:open:Redistribution"] = "true";
    }

    [Fact]
    public async Task IssueKey_WithAPermittedPurpose_StoresThePlansTermsAsVersion1_AndTheDeveloperSeesThem()
    {
        var customer = await Gateway.CreateCustomerAsync();

        using var issued = await Gateway.Admin.PostAsJsonAsync("admin/v1/keys", new { customerId = customer, plan = "open", purpose = "ai-training" });

        Assert.Equal(201, (int)issued.StatusCode);
        var body = await issued.Content.ReadFromJsonAsync<JsonElement>();
        var answered = body.GetProperty("licence");
        Assert.Equal(1, answered.GetProperty("version").GetInt32());
        Assert.Equal("ai-training", answered.GetProperty("purpose").GetString());
        var usage = await Gateway.Data.SendAsync(TestGateway.Get("_gateway/usage", body.GetProperty("key").GetString()));
        var licence = (await usage.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("licence");
        Assert.Equal(1, licence.GetProperty("version").GetInt32());
        Assert.Equal("ai-training", licence.GetProperty("purpose").GetString());
        var terms = licence.GetProperty("terms");
        Assert.Equal(["analytics", "ai-training"], terms.GetProperty("purposes").EnumerateArray().Select(p => p.GetString()));
        Assert.Equal(["alpha", "beta", "gamma"], terms.GetProperty("routeGroups").EnumerateArray().Select(p => p.GetString()));
        Assert.True(terms.GetProperty("redistribution").GetBoolean());
    }

    [Theory]
    [InlineData("ai-training")]
    [InlineData("Not A Purpose")]
    public async Task IssueKey_WithAPurposeTheTermsDoNotPermit_Returns400_AndIssuesNothing(string purpose)
    {
        var customer = await Gateway.CreateCustomerAsync();

        using var refused = await Gateway.Admin.PostAsJsonAsync("admin/v1/keys", new { customerId = customer, plan = "narrow", purpose });

        var problem = await Problems.AssertAsync(refused, 400, "urn:gateway:problem:invalid-request");
        Assert.True(problem.GetProperty("errors").TryGetProperty("purpose", out _));
        var keys = JsonDocument.Parse(await Gateway.Admin.GetStringAsync($"admin/v1/keys?customerId={customer}")).RootElement;
        Assert.Empty(keys.GetProperty("items").EnumerateArray());
    }

    [Fact]
    public async Task IssueKey_WithoutAPurpose_DeclaresThePlansFirst()
    {
        var customer = await Gateway.CreateCustomerAsync();
        var (id, _) = await Gateway.IssueKeyAsync(customer, "narrow");

        var licence = await Gateway.Services.GetRequiredService<KeyLicences>().CurrentAsync(id, default);

        Assert.NotNull(licence);
        Assert.Equal("display", licence.Purpose);
        Assert.Equal(3, licence.Terms.MaxClientNetworks);
        Assert.Equal(5000, licence.Terms.DailyRecordCap);
    }

    [Fact]
    public async Task IssueKey_WithAnAdminsOverride_StoresTheOverriddenTerms_ButADeveloperMayNotOverride()
    {
        var customer = await Gateway.CreateCustomerAsync();
        using var overridden = await Gateway.Admin.PostAsJsonAsync("admin/v1/keys", new
        {
            customerId = customer,
            plan = "narrow",
            purpose = "research",
            licence = new { purposes = ResearchOnly, maxClientNetworks = 40 },
        });
        using var tokenResponse = await Gateway.Admin.PostAsJsonAsync("admin/v1/tokens", new { role = "developer", customerId = customer });
        var token = (await tokenResponse.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString();
        using var developer = new HttpClient { BaseAddress = Gateway.Admin.BaseAddress };
        developer.DefaultRequestHeaders.Authorization = new("Bearer", token);

        using var refused = await developer.PostAsJsonAsync("admin/v1/keys", new { customerId = customer, plan = "narrow", licence = new { maxClientNetworks = 400 } });

        Assert.Equal(201, (int)overridden.StatusCode);
        var id = (await overridden.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        var licence = await Gateway.Services.GetRequiredService<KeyLicences>().CurrentAsync(id, default);
        Assert.Equal(["research"], licence!.Terms.Purposes);
        Assert.Equal(40, licence.Terms.MaxClientNetworks);
        Assert.Equal(5000, licence.Terms.DailyRecordCap);
        await Problems.AssertAsync(refused, 403, "urn:gateway:problem:forbidden");
    }

    [Fact]
    public async Task ChangeKeyPlan_AddsANewLicenceVersion_WithTheNewPlansTerms_AndKeepsTheOld()
    {
        var customer = await Gateway.CreateCustomerAsync();
        var (id, _) = await Gateway.IssueKeyAsync(customer, "narrow");

        using var changed = await Gateway.Admin.PutAsJsonAsync($"admin/v1/keys/{id}/plan", new { plan = "open" });

        changed.EnsureSuccessStatusCode();
        var history = await Gateway.Services.GetRequiredService<KeyLicences>().HistoryAsync(id, default);
        Assert.Equal([1, 2], history.Select(v => v.Version));
        Assert.Equal(["narrow", "open"], history.Select(v => v.Plan));
        Assert.Equal(["alpha"], history[0].Terms.RouteGroups);
        Assert.Equal(["alpha", "beta", "gamma"], history[1].Terms.RouteGroups);
        Assert.All(history, v => Assert.Equal("display", v.Purpose));
    }
}
