using Gateway.Core.Plans;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace Gateway.Functions.Health;

/// <summary><c>GET /api/health</c>: the function app is up and its plan catalog loaded.</summary>
public sealed class HealthFunction(PlanCatalog plans)
{
    [Function("Health")]
    public IActionResult Run([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "health")] HttpRequest request) =>
        new OkObjectResult(new { status = "ok", plans = plans.All.Count() });
}
