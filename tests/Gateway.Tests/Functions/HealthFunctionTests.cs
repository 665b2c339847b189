using Gateway.Core.Plans;
using Gateway.Functions.Health;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;

namespace Gateway.Tests.Functions;

public sealed class HealthFunctionTests
{
    [Fact]
    public void Health_WithACatalog_ReportsOkAndThePlanCount()
    {
        var plans = new PlanCatalog(new Dictionary<string, PlanOptions>
        {
            ["free"] = new() { RequestsPerSecond = 1, Burst = 1, MonthlyQuota = 10, RouteGroups = ["posts"] },
            ["pro"] = new() { RequestsPerSecond = 10, Burst = 10, MonthlyQuota = 100, RouteGroups = ["posts"] },
        });

        var result = Assert.IsType<OkObjectResult>(new HealthFunction(plans).Run(new DefaultHttpContext().Request));

        Assert.Equal("{ status = ok, plans = 2 }", result.Value!.ToString());
    }

    [Fact]
    public void FunctionApp_Output_ContainsTheRepositoryHostJson()
    {
        var output = Path.GetDirectoryName(typeof(HealthFunction).Assembly.Location)!;
        var hostJson = Path.Combine(output, "host.json");

        Assert.True(File.Exists(hostJson), $"host.json missing from {output}");
        Assert.Equal(File.ReadAllText(Path.Combine(Infrastructure.RepositoryRoot.Path, "host.json")), File.ReadAllText(hostJson));
    }
}
