using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Gateway.StripeTestServer;
using Gateway.StripeTestServer.Http;
using Microsoft.Extensions.Time.Testing;
using Stripe;
using Stripe.Billing;
using Stripe.Checkout;
using StripeServer = Gateway.StripeTestServer.StripeTestServer;

namespace Gateway.Tests.Billing;

/// <summary>The Stripe test server, driven by Stripe.net itself (and by raw HTTP where Stripe.net cannot send the mistake).</summary>
public sealed class StripeTestServerTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Now = new(2030, 6, 15, 12, 0, 0, TimeSpan.Zero);
    private readonly FakeTimeProvider _time = new(Now);
    private StripeServer _server = null!;
    private StripeClient _stripe = null!;

    public async Task InitializeAsync()
    {
        _server = await StripeServer.StartAsync(new StripeTestServerOptions { Time = _time });
        _stripe = StripeClients.For(_server);
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Request_WithoutSecretKey_Returns401WithStripesErrorShape()
    {
        using var http = new HttpClient();
        var response = await http.GetAsync(new Uri($"{_server.ApiBase}/v1/customers"));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var error = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!;
        Assert.Equal("invalid_request_error", (string?)error["type"]);
    }

    [Fact]
    public async Task Request_WithLiveKey_Returns401()
    {
        var live = new StripeClient(new StripeClientOptions { ApiKey = "sk_live_x", ApiBase = _server.ApiBase });

        var e = await Assert.ThrowsAsync<StripeException>(() => new CustomerService(live).ListAsync());

        Assert.Equal(HttpStatusCode.Unauthorized, e.HttpStatusCode);
        Assert.Equal("api_key_invalid", e.StripeError.Code);
    }

    [Fact]
    public async Task Post_WithJsonBody_Returns400_AndCreatesNothing()
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, $"{_server.ApiBase}/v1/customers")
        {
            Content = new StringContent("""{"email":"a@example.com"}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", StripeClients.TestKey);

        var response = await http.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Empty(_server.State.All("customer"));
    }

    [Fact]
    public async Task Customer_CreatedWithMetadata_IsReadBackWithFixtureFields()
    {
        var created = await new CustomerService(_stripe).CreateAsync(new CustomerCreateOptions
        {
            Email = "dev@example.com",
            Metadata = new Dictionary<string, string> { ["gateway_customer_id"] = "cus_gw1" },
        });

        var read = await new CustomerService(_stripe).GetAsync(created.Id);

        Assert.StartsWith("cus_", created.Id, StringComparison.Ordinal);
        Assert.Equal("dev@example.com", read.Email);
        Assert.Equal("cus_gw1", read.Metadata["gateway_customer_id"]);
        Assert.Equal(Now.UtcDateTime, read.Created);
        Assert.NotNull(read.InvoiceSettings);
    }

    [Fact]
    public async Task Price_WithoutProduct_Returns400ParameterMissing()
    {
        var e = await Assert.ThrowsAsync<StripeException>(() => new PriceService(_stripe).CreateAsync(new PriceCreateOptions { Currency = "eur", UnitAmount = 5 }));

        Assert.Equal(HttpStatusCode.BadRequest, e.HttpStatusCode);
        Assert.Equal("parameter_missing", e.StripeError.Code);
        Assert.Equal("product", e.StripeError.Param);
    }

    [Fact]
    public async Task Prices_ListedByLookupKey_ReturnOnlyThatPrice_AndALookupKeyIsUnique()
    {
        var product = await new ProductService(_stripe).CreateAsync(new ProductCreateOptions { Name = "Pro" });
        var prices = new PriceService(_stripe);
        var pro = await prices.CreateAsync(new PriceCreateOptions { Product = product.Id, Currency = "eur", UnitAmount = 4900, LookupKey = "pro_monthly", Recurring = new PriceRecurringOptions { Interval = "month" } });
        await prices.CreateAsync(new PriceCreateOptions { Product = product.Id, Currency = "eur", UnitAmount = 1, LookupKey = "pro_overage" });

        var found = await prices.ListAsync(new PriceListOptions { LookupKeys = ["pro_monthly"] });
        var duplicate = await Assert.ThrowsAsync<StripeException>(() => prices.CreateAsync(new PriceCreateOptions { Product = product.Id, Currency = "eur", UnitAmount = 1, LookupKey = "pro_monthly" }));

        Assert.Equal([pro.Id], found.Data.Select(p => p.Id));
        Assert.Equal("month", found.Data[0].Recurring.Interval);
        Assert.Equal("resource_already_exists", duplicate.StripeError.Code);
    }

    [Fact]
    public async Task MeterEvent_SameIdentifierWithin24Hours_Returns400ResourceAlreadyExists_AndIsAcceptedAgainAfter()
    {
        await SendMeterEventAsync("id-1", 5);

        var duplicate = await Assert.ThrowsAsync<StripeException>(() => SendMeterEventAsync("id-1", 5));
        _time.Advance(TimeSpan.FromHours(24));
        await SendMeterEventAsync("id-1", 5);

        Assert.Equal(HttpStatusCode.BadRequest, duplicate.HttpStatusCode);
        Assert.Equal("invalid_request_error", duplicate.StripeError.Type);
        Assert.Equal("resource_already_exists", duplicate.StripeError.Code);
        Assert.Equal(2, _server.State.MeterEvents.Count(e => e.Identifier == "id-1"));
    }

    [Fact]
    public async Task MeterEvent_IdentifierOf101Characters_IsRefused_AndOf100Accepted()
    {
        var e = await Assert.ThrowsAsync<StripeException>(() => SendMeterEventAsync(new string('a', 101), 1));
        await SendMeterEventAsync(new string('a', 100), 1);

        Assert.Equal("identifier", e.StripeError.Param);
        Assert.Single(_server.State.MeterEvents);
    }

    [Theory]
    [InlineData(-35 * 24 * 60 - 1, false)]
    [InlineData(-35 * 24 * 60 + 1, true)]
    [InlineData(5, true)]
    [InlineData(6, false)]
    public async Task MeterEvent_Timestamp_MustLieWithin35DaysBackAnd5MinutesAhead(int minutesFromNow, bool accepted)
    {
        var send = SendMeterEventAsync("t", 1, Now.AddMinutes(minutesFromNow));

        if (accepted)
        {
            await send;
            Assert.Single(_server.State.MeterEvents);
        }
        else
        {
            var e = await Assert.ThrowsAsync<StripeException>(() => send);
            Assert.Equal("timestamp", e.StripeError.Param);
            Assert.Empty(_server.State.MeterEvents);
        }
    }

    [Fact]
    public async Task MeterEvent_WithoutPayload_Returns400ParameterMissing()
    {
        var e = await Assert.ThrowsAsync<StripeException>(() => new MeterEventService(_stripe).CreateAsync(new MeterEventCreateOptions { EventName = "api_calls" }));

        Assert.Equal("payload", e.StripeError.Param);
    }

    [Fact]
    public async Task EventSummaries_ByHour_SumTheCustomersEventsOfTheMetersEventName()
    {
        var meter = await new MeterService(_stripe).CreateAsync(new MeterCreateOptions
        {
            DisplayName = "API calls",
            EventName = "api_calls",
            DefaultAggregation = new MeterDefaultAggregationOptions { Formula = "sum" },
            CustomerMapping = new MeterCustomerMappingOptions { EventPayloadKey = "stripe_customer_id", Type = "by_id" },
        });
        var hour = new DateTimeOffset(2030, 6, 15, 9, 0, 0, TimeSpan.Zero);
        await SendMeterEventAsync("a", 3, hour, "cus_A");
        await SendMeterEventAsync("b", 4, hour.AddMinutes(59), "cus_A");
        await SendMeterEventAsync("c", 5, hour.AddHours(1), "cus_A");
        await SendMeterEventAsync("d", 100, hour, "cus_B");
        await SendMeterEventAsync("e", 100, hour, "cus_A", eventName: "other");

        var summaries = await new MeterEventSummaryService(_stripe).ListAsync(meter.Id, new MeterEventSummaryListOptions
        {
            Customer = "cus_A",
            StartTime = hour.UtcDateTime,
            EndTime = hour.AddHours(3).UtcDateTime,
            ValueGroupingWindow = "hour",
        });

        Assert.Equal([(hour.UtcDateTime, 7m), (hour.AddHours(1).UtcDateTime, 5m)], summaries.Data.Select(s => (s.StartTime, s.AggregatedValue)));
    }

    [Fact]
    public async Task SubscriptionWithMeteredPrice_InvoicePreview_BillsTheMetersUsage()
    {
        var meter = await new MeterService(_stripe).CreateAsync(new MeterCreateOptions
        {
            DisplayName = "API calls",
            EventName = "api_calls",
            DefaultAggregation = new MeterDefaultAggregationOptions { Formula = "sum" },
        });
        var product = await new ProductService(_stripe).CreateAsync(new ProductCreateOptions { Name = "Pro" });
        var price = await new PriceService(_stripe).CreateAsync(new PriceCreateOptions
        {
            Product = product.Id,
            Currency = "eur",
            UnitAmount = 2,
            Recurring = new PriceRecurringOptions { Interval = "month", UsageType = "metered", Meter = meter.Id },
        });
        var customer = await new CustomerService(_stripe).CreateAsync(new CustomerCreateOptions { Email = "a@example.com" });
        var subscription = await new SubscriptionService(_stripe).CreateAsync(new SubscriptionCreateOptions
        {
            Customer = customer.Id,
            Items = [new SubscriptionItemOptions { Price = price.Id }],
        });
        await SendMeterEventAsync("u1", 40, Now, customer.Id);

        var preview = await new InvoiceService(_stripe).CreatePreviewAsync(new InvoiceCreatePreviewOptions { Customer = customer.Id });

        Assert.Equal("active", subscription.Status);
        Assert.Equal(80, preview.AmountDue);
        Assert.Equal(40, preview.Lines.Data.Single().Quantity);
    }

    [Fact]
    public async Task CheckoutAndPortalSessions_AreCreatedWithUrls_AndCheckedForRequiredParameters()
    {
        var customer = await new CustomerService(_stripe).CreateAsync(new CustomerCreateOptions());

        var checkout = await new SessionService(_stripe).CreateAsync(new SessionCreateOptions
        {
            Mode = "subscription",
            SuccessUrl = "https://portal.example/ok",
            LineItems = [new SessionLineItemOptions { Price = "price_x", Quantity = 1 }],
            ClientReferenceId = "cus_gw1",
        });
        var portal = await new Stripe.BillingPortal.SessionService(_stripe).CreateAsync(new Stripe.BillingPortal.SessionCreateOptions { Customer = customer.Id, ReturnUrl = "https://portal.example" });
        var missing = await Assert.ThrowsAsync<StripeException>(() => new SessionService(_stripe).CreateAsync(new SessionCreateOptions { SuccessUrl = "https://x" }));

        Assert.Equal("open", checkout.Status);
        Assert.Equal("cus_gw1", checkout.ClientReferenceId);
        Assert.StartsWith("https://checkout.stripe.com/", checkout.Url, StringComparison.Ordinal);
        Assert.StartsWith("https://billing.stripe.com/", portal.Url, StringComparison.Ordinal);
        Assert.Equal("mode", missing.StripeError.Param);
    }

    [Fact]
    public async Task Fault_ServerError_Returns500_AndChangesNothing()
    {
        _server.Faults.Enqueue(new StripeFault(StripeFaultKind.ServerError));

        var e = await Assert.ThrowsAsync<StripeException>(() => SendMeterEventAsync("f", 1));

        Assert.Equal(HttpStatusCode.InternalServerError, e.HttpStatusCode);
        Assert.Equal("api_error", e.StripeError.Type);
        Assert.Empty(_server.State.MeterEvents);
    }

    [Fact]
    public async Task Fault_TooManyRequests_Returns429WithRetryAfter()
    {
        _server.Faults.Enqueue(new StripeFault(StripeFaultKind.TooManyRequests) { RetryAfter = TimeSpan.FromSeconds(3) });

        var e = await Assert.ThrowsAsync<StripeException>(() => SendMeterEventAsync("f", 1));

        Assert.Equal(HttpStatusCode.TooManyRequests, e.HttpStatusCode);
        Assert.Equal(TimeSpan.FromSeconds(3), e.StripeResponse.Headers.RetryAfter?.Delta);
        Assert.Empty(_server.State.MeterEvents);
    }

    [Fact]
    public async Task Fault_CommittedThenDropped_KeepsTheEvent_ButTheClientSeesAFailure()
    {
        _server.Faults.Enqueue(new StripeFault(StripeFaultKind.CommittedThenDropped));

        await Assert.ThrowsAnyAsync<Exception>(() => SendMeterEventAsync("f", 1));
        var again = await Assert.ThrowsAsync<StripeException>(() => SendMeterEventAsync("f", 1));

        Assert.Single(_server.State.MeterEvents);
        Assert.Equal("resource_already_exists", again.StripeError.Code);
    }

    [Fact]
    public async Task Fault_DelayLongerThanTheClientTimeout_TimesOutTheClient_ThenTheEventIsKept()
    {
        var impatient = StripeClients.For(_server, timeout: TimeSpan.FromMilliseconds(300));
        _server.Faults.Enqueue(new StripeFault(StripeFaultKind.Delay) { Delay = TimeSpan.FromSeconds(1) });

        await Assert.ThrowsAnyAsync<Exception>(() => new MeterEventService(impatient).CreateAsync(MeterEvent("f", 1)));
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (_server.State.MeterEvents.Count == 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        Assert.Single(_server.State.MeterEvents);
    }

    [Fact]
    public async Task StripeNetRetry_AfterCommittedThenDropped_GetsTheSavedAnswerForItsIdempotencyKey()
    {
        var retrying = StripeClients.For(_server, maxNetworkRetries: 1);
        _server.Faults.Enqueue(new StripeFault(StripeFaultKind.CommittedThenDropped));

        var customer = await new CustomerService(retrying).CreateAsync(new CustomerCreateOptions { Email = "once@example.com" });

        Assert.Equal([customer.Id], _server.State.All("customer").Select(c => (string?)c["id"]));
    }

    [Fact]
    public async Task RandomFaults_AreInjectedUntilEachBudgetIsSpent()
    {
        _server.Faults.InjectRandomly(7, 1.0, new Dictionary<StripeFaultKind, int> { [StripeFaultKind.ServerError] = 2, [StripeFaultKind.TooManyRequests] = 1 });

        for (var i = 0; i < 3; i++)
        {
            await Assert.ThrowsAsync<StripeException>(() => SendMeterEventAsync($"r{i}", 1));
        }

        await SendMeterEventAsync("r3", 1);

        Assert.Equal(2, _server.Faults.Injected[StripeFaultKind.ServerError]);
        Assert.Equal(1, _server.Faults.Injected[StripeFaultKind.TooManyRequests]);
        Assert.Equal(0, _server.Faults.Pending);
    }

    private static MeterEventCreateOptions MeterEvent(string identifier, long value, DateTimeOffset? timestamp = null, string customer = "cus_A", string eventName = "api_calls") => new()
    {
        EventName = eventName,
        Identifier = identifier,
        Timestamp = timestamp?.UtcDateTime,
        Payload = new Dictionary<string, string> { ["stripe_customer_id"] = customer, ["value"] = value.ToString(System.Globalization.CultureInfo.InvariantCulture) },
    };

    private Task<MeterEvent> SendMeterEventAsync(string identifier, long value, DateTimeOffset? timestamp = null, string customer = "cus_A", string eventName = "api_calls") =>
        new MeterEventService(_stripe).CreateAsync(MeterEvent(identifier, value, timestamp, customer, eventName));
}
