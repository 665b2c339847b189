using Gateway.ControlPlane.Security;
using Microsoft.AspNetCore.Http;

namespace Gateway.Functions.Admin;

/// <summary>
/// What every admin function does around its handler: the endpoint's policy first (the function app runs no
/// authorization middleware), then the very handler the gateway maps. Triggers are anonymous at the Functions level:
/// sign-in is the control plane's, the same in both hosts.
/// </summary>
internal static class AdminFunction
{
    public static async Task<IResult> RunAsync<TResult>(HttpRequest request, string policy, Func<Task<TResult>> handler)
        where TResult : IResult =>
        await EndpointAuthorization.AuthorizeAsync(request.HttpContext, policy) ? await handler() : Results.Empty;
}
