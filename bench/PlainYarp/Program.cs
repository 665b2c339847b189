using Microsoft.Net.Http.Headers;
using Yarp.ReverseProxy.Transforms;

// Plain YARP, the benchmark's baseline: the gateway's ReverseProxy configuration (routes, cluster) and the same
// request-header removal as the gateway's IdentityHeaders transform, but no key check, limits or metering.
// Port 1 (--DataPort) proxies; port 2 (--StatsPort) answers GET /stats with the allocation counter.
var builder = WebApplication.CreateBuilder(args);
// Lowest priority, so environment variables and the command line still override it, as for the gateway.
builder.Configuration.Sources.Insert(0, new Microsoft.Extensions.Configuration.Json.JsonConfigurationSource
{
    Path = "gateway.appsettings.json",
    FileProvider = new Microsoft.Extensions.FileProviders.PhysicalFileProvider(AppContext.BaseDirectory),
    Optional = false,
});

var dataPort = builder.Configuration.GetValue("DataPort", 8090);
var statsPort = builder.Configuration.GetValue("StatsPort", 8091);
builder.WebHost.ConfigureKestrel(kestrel =>
{
    kestrel.AddServerHeader = false;
    kestrel.Listen(System.Net.IPAddress.Loopback, dataPort);
    kestrel.Listen(System.Net.IPAddress.Loopback, statsPort);
});

// The headers the gateway's IdentityHeaders removes (the key, Forwarded, spoofed X-Gateway-* identity).
string[] removed = [HeaderNames.Authorization, "X-Api-Key", "Forwarded", "X-Gateway-Customer-Id", "X-Gateway-Key-Id", "X-Gateway-Plan", "X-Gateway-Route-Group"];
builder.Services.AddReverseProxy()
    .LoadFromConfig(builder.Configuration.GetSection("ReverseProxy"))
    .AddTransforms(context => context.AddRequestTransform(transform =>
    {
        foreach (var header in removed)
        {
            RequestTransform.RemoveHeader(transform, header);
        }

        return ValueTask.CompletedTask;
    }));

var app = builder.Build();
app.MapReverseProxy();
app.MapGet("/stats", () => TypedResults.Ok(new { allocatedBytes = GC.GetTotalAllocatedBytes(precise: false) }))
    .RequireHost($"*:{statsPort}");
app.Run();
