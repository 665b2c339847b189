using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.ControlPlane.Security;

/// <summary>
/// Applies an endpoint's authorization policy where no authorization middleware runs (the function app): the same
/// policy evaluator and result handler ASP.NET's <c>AuthorizationMiddleware</c> uses, so a refusal is the very same
/// 401 or 403 problem the gateway writes.
/// </summary>
public static class EndpointAuthorization
{
    /// <summary>True when the caller may go on; otherwise the challenge or refusal has been written.</summary>
    public static async Task<bool> AuthorizeAsync(HttpContext context, string policyName)
    {
        var services = context.RequestServices;
        var policy = await services.GetRequiredService<IAuthorizationPolicyProvider>().GetPolicyAsync(policyName)
            ?? throw new InvalidOperationException($"No authorization policy '{policyName}' is registered.");
        var evaluator = services.GetRequiredService<IPolicyEvaluator>();
        var authenticated = await evaluator.AuthenticateAsync(policy, context);
        var result = await evaluator.AuthorizeAsync(policy, authenticated, context, resource: null);
        if (result.Succeeded)
        {
            return true;
        }

        await services.GetRequiredService<IAuthorizationMiddlewareResultHandler>().HandleAsync(_ => Task.CompletedTask, context, policy, result);
        return false;
    }
}
