using Azure;
using Gateway.Core;
using Gateway.Core.Keys;
using Gateway.Core.Problems;
using Gateway.Core.Storage;
using Gateway.Core.Usage;
using Gateway.ControlPlane.Apis;
using Gateway.Proxy.Admin;
using Gateway.Proxy.Keys;
using Gateway.Proxy.Metering;
using Gateway.Proxy.Portal;
using Gateway.Proxy.Problems;
using Gateway.Proxy.Proxying;
using Gateway.Proxy.Quotas;
using Gateway.Proxy.RateLimiting;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.Extensions.Options;

namespace Gateway.Proxy.Hosting;

/// <summary>The <c>AddXxx</c>/<c>MapXxx</c> steps Program.cs is made of.</summary>
public static partial class GatewayServices
{
    /// <summary>Key verification, quotas and metering: the per-request state of the data plane.</summary>
    public static IServiceCollection AddApiKeysAndMetering(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton<QuotaLedger>();
        services.AddSingleton<UsageRecorder>();
        services.AddSingleton<IUnflushedUsage>(sp => sp.GetRequiredService<UsageRecorder>());
        services.AddSingleton<IUsageRowSource>(sp => sp.GetRequiredService<UsageRecorder>());
        services.AddSingleton<IUsageRowSource>(sp => sp.GetRequiredService<QuotaLedger>());
        services.AddSingleton(sp => new KeyLookupLimiter(sp.GetRequiredService<IOptions<GatewayOptions>>().Value.Keys));
        services.AddSingleton<RateLimits>();
        services.AddSingleton<QuotaBaselines>();
        services.AddSingleton<ApiCallerFactory>();
        services.AddSingleton<Compliance.DailyRecordCaps>();
        services.AddSingleton<Compliance.RecordCaptures>();
        services.AddSingleton<ApiKeyVerifier>();
        services.AddSingleton<IKeyChangeSink>(sp => sp.GetRequiredService<ApiKeyVerifier>());
        services.AddSingleton<UsageFlushStatus>();
        services.AddUsageJournal(configuration);
        services.AddSingleton<UsageFlushService>();
        services.AddHostedService(sp => sp.GetRequiredService<UsageFlushService>());
        services.AddQuotaLeases(configuration);
        services.AddHostedService<TableSetup>();
        return services;
    }

    /// <summary>Compliance evidence: recorded per key and hour after each response, flushed by <see cref="Compliance.EvidenceFlushService"/>.</summary>
    public static IServiceCollection AddComplianceEvidence(this IServiceCollection services) =>
        services.AddHostedService<Compliance.EvidenceFlushService>();

    /// <summary>
    /// The usage journal when it is on (<c>Gateway:Metering:Journal</c>; by default in single-node mode): opened, and the
    /// previous run's counts read, when the recorder and the ledger are made, before the server listens; its group
    /// commit is a hosted service registered before the flush, so it stops after the shutdown flush.
    /// </summary>
    private static IServiceCollection AddUsageJournal(this IServiceCollection services, IConfiguration configuration)
    {
        var section = configuration.GetSection(GatewayOptions.Section);
        var journal = section.GetSection("Metering:Journal").Get<JournalOptions>() ?? new JournalOptions();
        if (journal.IsOn(section.GetSection("ServiceBus").Get<ServiceBusOptions>() ?? new ServiceBusOptions()))
        {
            services.AddSingleton<UsageJournal>();
            services.AddHostedService<UsageJournalWriter>();
        }

        return services;
    }

    /// <summary>
    /// Quota leases when they are on (<c>Gateway:Quotas:Leases</c>; by default when Service Bus is configured, i.e. with
    /// several instances): the leases table, every quota period's <see cref="QuotaBlock"/> (through <see cref="QuotaLeasing"/>,
    /// which the ledger takes when it is registered) and the renewal pass, which also returns the blocks on shutdown.
    /// </summary>
    private static IServiceCollection AddQuotaLeases(this IServiceCollection services, IConfiguration configuration)
    {
        var section = configuration.GetSection(GatewayOptions.Section);
        var leases = section.GetSection("Quotas:Leases").Get<QuotaLeaseOptions>() ?? new QuotaLeaseOptions();
        if (leases.IsOn(section.GetSection("ServiceBus").Get<ServiceBusOptions>() ?? new ServiceBusOptions()))
        {
            services.AddSingleton<QuotaLeases>();
            services.AddSingleton<QuotaLeasing>();
            services.AddSingleton<QuotaLeaseRenewal>();
            services.AddHostedService(sp => sp.GetRequiredService<QuotaLeaseRenewal>());
        }

        return services;
    }

    /// <summary>
    /// With Service Bus configured (<c>Gateway:ServiceBus</c>), this instance's subscription to the <c>key-changes</c>
    /// topic, applied to the key cache as messages arrive; without, nothing (single node: changes arrive in-process).
    /// </summary>
    public static IServiceCollection AddKeyChangeSubscription(this IServiceCollection services, IConfiguration configuration)
    {
        if (configuration.GetSection($"{GatewayOptions.Section}:ServiceBus").Get<ServiceBusOptions>()?.IsConfigured == true)
        {
            services.AddHostedService<KeyChangeSubscriber>();
        }

        return services;
    }

    /// <summary>YARP with routes and clusters from <c>ReverseProxy</c> configuration and the identity transforms.</summary>
    public static IServiceCollection AddGatewayProxy(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton<IValidateOptions<GatewayOptions>>(new RouteGroups.Validator(configuration));
        services.AddReverseProxy()
            .LoadFromConfig(configuration.GetSection("ReverseProxy"))
            .AddTransforms<IdentityHeaders>();
        return services;
    }

    /// <summary>
    /// Authentication and authorization for the endpoints that declare a policy: the admin API and stats. Proxied
    /// calls and the fallback are short-circuited by routing (<see cref="MapGatewayProxy"/>), so they never reach these
    /// two middlewares: no DI scope, no authentication feature, nothing allocated on the hot path. No scheme is the
    /// default, so an endpoint without a policy authenticates nobody.
    /// </summary>
    public static void UseAdminAuthentication(this WebApplication app)
    {
        app.UseAuthentication();
        app.UseAuthorization();
    }

    /// <summary>
    /// Faults become problem+json: storage outages 503 with a stable type, anything else a plain 500. A request the
    /// framework finds malformed while an endpoint reads it is the client's mistake: 400 or 413 (<see cref="BadRequestHandler"/>).
    /// </summary>
    public static IServiceCollection AddGatewayProblems(this IServiceCollection services)
    {
        services.AddProblemDetails(o => o.CustomizeProblemDetails = c => c.HttpContext.Response.Headers.XContentTypeOptions = DataPlaneProblems.NoSniff);
        services.AddExceptionHandler<BadRequestHandler>();
        services.AddExceptionHandler<StorageFaultHandler>();
        services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        return services;
    }

    /// <summary>
    /// The gateway steps inside YARP's pipeline, before load balancing and forwarding: proxied routes answer on the data
    /// port only, then admission. Proxy endpoints are short-circuited: routing runs them at once, skipping the rest of
    /// the application pipeline (plane separation, authentication and authorization, which they have no use for); the
    /// port check is the first step of their own pipeline instead.
    /// </summary>
    public static void MapGatewayProxy(this WebApplication app)
    {
        var adminPort = app.Services.GetRequiredService<IOptions<ListenerOptions>>().Value.AdminPort;
        app.MapReverseProxy(pipeline =>
        {
            pipeline.Use((context, next) => context.Connection.LocalPort == adminPort
                ? DataPlaneProblems.WriteAsync(context, Rejection.RouteNotFound)
                : next(context));
            pipeline.UseMiddleware<AdmissionMiddleware>();
        }).ShortCircuit();
    }

    /// <summary>The control-plane API and the gateway's own admin endpoints, on the admin port.</summary>
    public static void MapAdminEndpoints(this WebApplication app)
    {
        var admin = app.MapAdminApi();
        admin.MapStatsApi();
        admin.MapSessionApi();
        app.MapStripeWebhook();
    }

    private sealed class StorageFaultHandler : IExceptionHandler
    {
        public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
        {
            if (!StorageFaults.IsStorageFault(exception, context.RequestAborted) || context.Response.HasStarted)
            {
                return false;
            }

            context.Response.Headers.RetryAfter = "1";
            await ProblemResponses.WriteAsync(context, new ApiProblem(ProblemTypes.StorageUnavailable, 503, "Storage is unavailable. Retry shortly."));
            return true;
        }
    }

    /// <summary>Creates missing tables before the gateway takes traffic, waiting up to a minute for storage to come up.</summary>
    private sealed partial class TableSetup(GatewayTables tables, ILogger<TableSetup> logger) : IHostedService
    {
        private static readonly TimeSpan Patience = TimeSpan.FromMinutes(1);

        public async Task StartAsync(CancellationToken cancellationToken)
        {
            var giveUpAt = DateTimeOffset.UtcNow + Patience;
            while (true)
            {
                try
                {
                    await tables.EnsureCreatedAsync(cancellationToken);
                    return;
                }
                catch (Exception e) when (e is RequestFailedException { Status: 0 } or AggregateException && DateTimeOffset.UtcNow < giveUpAt)
                {
                    LogWaiting(logger, e.Message);
                    await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
                }
            }
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        [LoggerMessage(Level = LogLevel.Warning, Message = "Waiting for Table Storage: {Reason}")]
        private static partial void LogWaiting(ILogger logger, string reason);
    }
}
