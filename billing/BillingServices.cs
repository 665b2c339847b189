using Gateway.Billing.Reporting;
using Gateway.Billing.Webhooks;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Stripe;

namespace Gateway.Billing;

public static class BillingServices
{
    /// <summary>
    /// Billing's options, tables and jobs, for both hosts. Expects the gateway's core services (tables, usage table,
    /// customer store, TimeProvider). The Stripe client is built from <c>Gateway:Stripe</c> when a secret key is set.
    /// </summary>
    public static IServiceCollection AddBilling(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<StripeOptions>().Bind(configuration.GetSection(StripeOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<BillingOptions>().Bind(configuration.GetSection(BillingOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<BillingTables>();
        services.AddSingleton<StripeCustomerLinks>();
        services.AddSingleton<UsageWatermarks>();
        services.AddSingleton<BillableLedger>();
        services.AddSingleton<IStripeClient>(sp => StripeClientFor(sp.GetRequiredService<IOptions<StripeOptions>>().Value));
        services.AddSingleton<MeterEventSender>();
        services.AddSingleton<UsageReportJob>();
        services.AddSingleton<Catalog.CatalogSync>();
        services.AddSingleton<Invoices.InvoicePreviewer>();
        services.AddSingleton<Reconciliation.BillingReconciler>();
        services.AddSingleton<StripeEventVerifier>();
        services.AddSingleton<StripeEventLog>();
        services.AddSingleton<BillingAccounts>();
        return services;
    }

    /// <summary>The single-node host's timer (the function app has its timer trigger instead).</summary>
    public static IServiceCollection AddBillingReportTimer(this IServiceCollection services) =>
        services.AddHostedService<UsageReportService>();

    public static StripeClient StripeClientFor(StripeOptions options)
    {
        var http = new HttpClient { Timeout = options.RequestTimeout };
        return new StripeClient(new StripeClientOptions
        {
            ApiKey = options.SecretKey,
            ApiBase = string.IsNullOrEmpty(options.ApiBase) ? null : options.ApiBase,
            HttpClient = new SystemNetHttpClient(http, options.MaxNetworkRetries),
        });
    }
}
