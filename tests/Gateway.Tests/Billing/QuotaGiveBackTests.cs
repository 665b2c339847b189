using Gateway.Core.Usage;
using Gateway.Proxy.Metering;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Billing;

/// <summary>
/// A call admitted against the quota that ends up outside the plan's billable set (an upstream 500 or 429 by default)
/// gives its place back, exactly, while billable calls race for the same places: released together by a gate, half
/// the calls answered 500, half 200, through the real gateway, with and without quota leases.
/// </summary>
[Collection(UsesAzurite.Name)]
public sealed class QuotaGiveBackTests(Azurite azurite) : GatewayTest(azurite)
{
    private const int Quota = 30;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task NotBillableAnswersRacingBillableOnes_GiveTheirPlacesBack_SoExactlyTheQuotaIsBilled(bool leases)
    {
        await using var gateway = await StartGatewayAsync(s =>
        {
            s["Gateway:Plans:open:MonthlyQuota"] = Quota.ToString(System.Globalization.CultureInfo.InvariantCulture);
            s["Gateway:Metering:FlushInterval"] = "00:05:00";
            s["Gateway:Quotas:Leases:Enabled"] = leases ? "true" : "false";
            s["Gateway:Quotas:Leases:BlockSize"] = "7";
        });
        var customer = await gateway.CreateCustomerAsync();
        var (keyId, key) = await gateway.IssueKeyAsync(customer);

        // 120 calls at once: every even one answered 500 (not billable), every odd one 200.
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var calls = Enumerable.Range(0, 120).Select(async i =>
        {
            await gate.Task;
            using var response = await gateway.Data.SendAsync(TestGateway.Get(i % 2 == 0 ? "beta/status/500" : "beta/1", key));
            return (int)response.StatusCode;
        }).ToList();
        gate.SetResult();
        var statuses = await Task.WhenAll(calls);

        var ok = statuses.Count(s => s == 200);
        var failed = statuses.Count(s => s == 500);
        Assert.All(statuses, s => Assert.True(s is 200 or 500 or 429, $"status {s}"));
        Assert.InRange(ok, 1, Quota);
        await WaitCountedAsync(gateway, customer, statuses.Length);
        var usage = await gateway.UsageAsync(customer);
        Assert.Equal(ok, usage.GetProperty("total").GetInt64());
        Assert.Equal(failed, usage.GetProperty("upstreamNotBilled").GetInt64());

        // Every place a 500 held came back: the rest of the quota is still there, one by one, and not one more.
        var more = new List<int>();
        for (var i = 0; i < Quota - ok + 1; i++)
        {
            using var response = await gateway.Data.SendAsync(TestGateway.Get("beta/1", key));
            more.Add((int)response.StatusCode);
        }

        Assert.Equal([.. Enumerable.Repeat(200, Quota - ok), 429], more);
        await WaitCountedAsync(gateway, customer, statuses.Length + more.Count);
        Assert.Equal(Quota, (await gateway.UsageAsync(customer)).GetProperty("total").GetInt64());
        Assert.True((await gateway.Services.GetRequiredService<UsageFlushService>().FlushAsync(CancellationToken.None)).Complete);
        var month = UsageCalendar.MonthOf(TestClock.Instance.GetUtcNow());
        Assert.Equal(Quota, await gateway.Services.GetRequiredService<UsageTable>().ReadMonthTotalAsync(customer, keyId, month, exceptWriter: null, CancellationToken.None));
    }

    /// <summary>Waits until the gateway has counted <paramref name="calls"/> (it counts a call after its answer has gone).</summary>
    private static async Task WaitCountedAsync(TestGateway gateway, string customer, int calls)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (DateTime.UtcNow < deadline)
        {
            var usage = await gateway.UsageAsync(customer);
            if (usage.GetProperty("buckets").EnumerateArray().Sum(b => b.GetProperty("count").GetInt64()) >= calls)
            {
                return;
            }

            await Task.Delay(20);
        }
    }
}
