using System.Globalization;
using Gateway.StripeTestServer.State;
using Microsoft.AspNetCore.Http;

namespace Gateway.StripeTestServer.Http;

/// <summary>
/// What happens to every request before an endpoint sees it, in Stripe's order: the secret key is checked, an
/// injected fault (if any) applies, and a POST with an <c>Idempotency-Key</c> that was answered before gets the saved
/// answer again (<c>Idempotent-Replayed: true</c>) without running twice.
/// </summary>
internal sealed class StripePipeline(StripeFaults faults, StripeState state)
{
    public async Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        var authorization = context.Request.Headers.Authorization.ToString();
        if (!authorization.StartsWith("Bearer ", StringComparison.Ordinal) || authorization.Length <= "Bearer ".Length)
        {
            await StripeErrors.Error(401, StripeErrors.InvalidRequest, null,
                "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth.").ExecuteAsync(context);
            return;
        }

        if (!authorization["Bearer ".Length..].StartsWith("sk_test_", StringComparison.Ordinal))
        {
            await StripeErrors.Error(401, StripeErrors.InvalidRequest, "api_key_invalid",
                "Invalid API Key provided: this test server accepts secret test-mode keys (sk_test_...) only.").ExecuteAsync(context);
            return;
        }

        switch (faults.Next(context.Request.Path.Value ?? "/"))
        {
            case { Kind: StripeFaultKind.ServerError }:
                await StripeErrors.Error(500, StripeErrors.ApiError, null, "An unknown error occurred (injected by the test server).").ExecuteAsync(context);
                return;
            case { Kind: StripeFaultKind.TooManyRequests } fault:
                context.Response.Headers.RetryAfter = ((int)Math.Ceiling(fault.RetryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
                await StripeErrors.Error(429, StripeErrors.InvalidRequest, "rate_limit",
                    "Request rate limit exceeded (injected by the test server).").ExecuteAsync(context);
                return;
            case { Kind: StripeFaultKind.Delay } fault:
                // Real time: the client's timeout is real. The body is read first and the request goes on afterwards,
                // whether or not the client is still there, as it does at Stripe.
                if (context.Request.HasFormContentType)
                {
                    await context.Request.ReadFormAsync(CancellationToken.None);
                }

                await Task.Delay(fault.Delay, CancellationToken.None);
                await IdempotentAsync(context, next);
                return;
            case { Kind: StripeFaultKind.CommittedThenDropped }:
                var original = context.Response.Body;
                context.Response.Body = Stream.Null;
                await IdempotentAsync(context, next);
                context.Response.Body = original;
                context.Abort();
                return;
            default:
                await IdempotentAsync(context, next);
                return;
        }
    }

    private async Task IdempotentAsync(HttpContext context, RequestDelegate next)
    {
        var key = context.Request.Headers["Idempotency-Key"].ToString();
        if (!HttpMethods.IsPost(context.Request.Method) || key.Length == 0)
        {
            await next(context);
            return;
        }

        var scopedKey = $"{context.Request.Path}|{key}";
        if (state.IdempotentResponse(scopedKey) is { } saved)
        {
            context.Response.StatusCode = saved.Status;
            context.Response.ContentType = "application/json";
            context.Response.Headers["Idempotent-Replayed"] = "true";
            await context.Response.WriteAsync(saved.Body, CancellationToken.None);
            return;
        }

        var original = context.Response.Body;
        using var buffer = new MemoryStream();
        context.Response.Body = buffer;
        try
        {
            await next(context);
        }
        finally
        {
            context.Response.Body = original;
        }

        // Stripe saves the result of a request that ran (2xx and 4xx), not of one that failed on its side.
        if (context.Response.StatusCode is < 500 and not 429)
        {
            state.SaveIdempotentResponse(scopedKey, context.Response.StatusCode, System.Text.Encoding.UTF8.GetString(buffer.ToArray()));
        }

        buffer.Position = 0;
        await buffer.CopyToAsync(original, CancellationToken.None);
    }
}
