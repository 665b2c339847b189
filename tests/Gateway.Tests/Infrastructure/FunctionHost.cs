using System.Text;
using Gateway.Functions;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Internal;

namespace Gateway.Tests.Infrastructure;

/// <summary>A function's answer, read back from the <see cref="HttpContext"/> it wrote to.</summary>
public sealed record FunctionResponse(int Status, string? ContentType, IHeaderDictionary Headers, string Body);

/// <summary>
/// The function app's container (the same <see cref="FunctionsApp.AddFunctionsApp"/> its Program.cs calls), so tests can
/// call the function classes in-process with a real <see cref="DefaultHttpContext"/>: the Functions Core Tools cannot
/// run here, and the worker has no official in-process test host.
/// </summary>
public sealed class FunctionHost
{
    private readonly ServiceProvider _services;

    public FunctionHost(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddSingleton<IHostEnvironment>(new HostingEnvironment { EnvironmentName = "Testing", ApplicationName = "Gateway.Functions" });
        services.AddFunctionsApp(configuration);
        services.AddSingleton<TimeProvider>(TestClock.Instance);
        _services = services.BuildServiceProvider();
    }

    /// <summary>Creates the function class as the worker would (constructor injection), calls it, executes its result.</summary>
    public async Task<FunctionResponse> InvokeAsync<TFunction>(
        Func<TFunction, HttpRequest, Task<IResult>> run,
        string method,
        string path,
        string? query = null,
        string? json = null,
        string? token = TestGateway.AdminToken,
        IReadOnlyDictionary<string, string>? headers = null)
    {
        await using var scope = _services.CreateAsyncScope();
        var context = new DefaultHttpContext { RequestServices = scope.ServiceProvider };
        context.Request.Method = method;
        context.Request.Scheme = "http";
        context.Request.Host = new HostString("localhost");
        context.Request.PathBase = "/api";
        context.Request.Path = path;
        context.Request.QueryString = query is null ? QueryString.Empty : new QueryString(query);
        if (json is not null)
        {
            var bytes = Encoding.UTF8.GetBytes(json);
            context.Request.ContentType = "application/json";
            context.Request.ContentLength = bytes.Length;
            context.Request.Body = new MemoryStream(bytes);
        }

        if (token is not null)
        {
            context.Request.Headers.Authorization = $"Bearer {token}";
        }

        foreach (var (name, value) in headers ?? new Dictionary<string, string>())
        {
            context.Request.Headers[name] = value;
        }

        using var body = new MemoryStream();
        context.Response.Body = body;
        var function = ActivatorUtilities.CreateInstance<TFunction>(scope.ServiceProvider);
        var result = await run(function, context.Request);
        await result.ExecuteAsync(context);
        return new FunctionResponse(context.Response.StatusCode, context.Response.ContentType, context.Response.Headers, Encoding.UTF8.GetString(body.ToArray()));
    }

    /// <summary>Creates a function class as the worker would (constructor injection), for triggers other than HTTP.</summary>
    public TFunction Create<TFunction>() => ActivatorUtilities.CreateInstance<TFunction>(_services);

    /// <summary>Disposes the container (the test class owns the host through its lifetime, not a using).</summary>
    public ValueTask StopAsync() => _services.DisposeAsync();
}
