using Azure.Data.Tables;
using Gateway.Billing;
using Gateway.Billing.Reporting;
using Gateway.Core;
using Gateway.Core.Customers;
using Gateway.Core.Storage;
using Gateway.Core.Usage;
using Gateway.StripeTestServer;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Stripe;
using Stripe.Billing;
using StripeServer = Gateway.StripeTestServer.StripeTestServer;

namespace Gateway.Tests.Billing;

/// <summary>
/// Billing wired as a host wires it (AddBilling over the gateway's tables), against real Azurite and the Stripe test
/// server, on one fake clock shared by the job and the server. Usage is written to the ledger as the flush writes it.
/// </summary>
internal sealed class BillingHarness : IAsyncDisposable
{
    private BillingHarness(ServiceProvider services, StripeServer server, FakeTimeProvider time, string meterId)
    {
        Services = services;
        Server = server;
        Time = time;
        MeterId = meterId;
    }

    public static readonly DateTimeOffset Start = new(2030, 6, 1, 0, 0, 0, TimeSpan.Zero);

    public ServiceProvider Services { get; }

    public StripeServer Server { get; }

    public FakeTimeProvider Time { get; }

    public string MeterId { get; }

    public UsageReportJob Job => Services.GetRequiredService<UsageReportJob>();

    public static async Task<BillingHarness> StartAsync(Azurite azurite, bool withSecretKey = true, TimeSpan? clientTimeout = null, IDictionary<string, string?>? settings = null)
    {
        var time = new FakeTimeProvider(Start);
        var server = await StripeServer.StartAsync(new StripeTestServerOptions { Time = time });
        var configuration = new Dictionary<string, string?>
        {
            ["Gateway:Stripe:SecretKey"] = withSecretKey ? StripeClients.TestKey : null,
            ["Gateway:Stripe:ApiBase"] = server.ApiBase,
            ["Gateway:Billing:Lookback"] = "5.00:00:00",
            ["Gateway:Billing:RetryBaseDelay"] = "00:00:00.001",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            configuration[key] = value;
        }

        var services = new ServiceCollection()
            .AddLogging()
            .AddSingleton<TimeProvider>(time)
            .AddSingleton(Options.Create(new GatewayOptions
            {
                Storage = new StorageOptions { ConnectionString = azurite.ConnectionString, TablePrefix = "bi" + Guid.NewGuid().ToString("N")[..16] },
            }))
            .AddSingleton(new TableClientOptions())
            .AddSingleton<GatewayTables>()
            .AddSingleton<UsageTable>()
            .AddSingleton<ICustomerStore, TableCustomerStore>()
            .AddSingleton<Gateway.Core.Keys.IApiKeyStore, Gateway.Core.Keys.TableApiKeyStore>()
            .AddSingleton<Gateway.Core.Plans.PlanCatalog>()
            .AddBilling(new ConfigurationBuilder().AddInMemoryCollection(configuration).Build())
            // Stripe.net's retries sleep ~0.5 s each; the resilience pipeline (1 ms base delay here) does the retrying.
            .AddSingleton<IStripeClient>(_ => StripeClients.For(server, timeout: clientTimeout))
            .BuildServiceProvider();
        await services.GetRequiredService<GatewayTables>().EnsureCreatedAsync(CancellationToken.None);
        await services.GetRequiredService<BillingTables>().EnsureCreatedAsync(CancellationToken.None);

        var meter = await new MeterService(StripeClients.For(server)).CreateAsync(new MeterCreateOptions
        {
            DisplayName = "API calls",
            EventName = "api_calls",
            DefaultAggregation = new MeterDefaultAggregationOptions { Formula = "sum" },
            CustomerMapping = new MeterCustomerMappingOptions { EventPayloadKey = "stripe_customer_id", Type = "by_id" },
        });
        return new BillingHarness(services, server, time, meter.Id);
    }

    /// <summary>A gateway customer linked to a new Stripe customer; returns the Stripe customer id.</summary>
    public async Task<string> AddLinkedCustomerAsync(string customerId)
    {
        await Services.GetRequiredService<ICustomerStore>().AddAsync(new Core.Customers.Customer(customerId, customerId, $"{customerId}@example.com", Start), CancellationToken.None);
        var stripeCustomer = await new Stripe.CustomerService(StripeClients.For(Server)).CreateAsync(new CustomerCreateOptions { Email = $"{customerId}@example.com" });
        await Services.GetRequiredService<StripeCustomerLinks>().LinkAsync(customerId, stripeCustomer.Id, CancellationToken.None);
        return stripeCustomer.Id;
    }

    /// <summary>Writes one writer's cumulative count of a cell, as the flush does (upsert-replace).</summary>
    public Task WriteUsageAsync(string customerId, int hour, CallOutcome outcome, long cumulative, string writer = "w1", string keyId = "key1") =>
        Services.GetRequiredService<UsageTable>().WriteBatchAsync(
            [UsageTable.HourRow(new UsageCount(new UsageCell(customerId, keyId, "posts", hour, outcome), writer, cumulative))],
            CancellationToken.None);

    /// <summary>What Stripe's meter holds for a customer, per hour (through Stripe's event summaries API).</summary>
    public async Task<Dictionary<int, long>> StripeHoursAsync(string stripeCustomerId, int fromHour, int toHour)
    {
        var hours = new Dictionary<int, long>();
        var summaries = new MeterEventSummaryService(StripeClients.For(Server)).ListAutoPagingAsync(MeterId, new MeterEventSummaryListOptions
        {
            Customer = stripeCustomerId,
            StartTime = UsageCalendar.HourStart(fromHour).UtcDateTime,
            EndTime = UsageCalendar.HourStart(toHour).UtcDateTime,
            ValueGroupingWindow = "hour",
            Limit = 100,
        });
        await foreach (var summary in summaries)
        {
            hours[UsageCalendar.HourOf(new DateTimeOffset(summary.StartTime, TimeSpan.Zero))] = (long)summary.AggregatedValue;
        }

        return hours;
    }

    public async ValueTask DisposeAsync()
    {
        await Services.DisposeAsync();
        await Server.DisposeAsync();
    }
}
