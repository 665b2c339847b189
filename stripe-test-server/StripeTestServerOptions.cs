namespace Gateway.StripeTestServer;

/// <summary>How a <see cref="StripeTestServer"/> starts: where it listens, where its fixtures are, and its clock.</summary>
public sealed class StripeTestServerOptions
{
    /// <summary>The address to listen on. Loopback by default: the server accepts any <c>sk_test_</c> key.</summary>
    public string Host { get; set; } = "127.0.0.1";

    /// <summary>The TCP port; 0 picks a free one (read it back from <see cref="StripeTestServer.ApiBase"/>).</summary>
    public int Port { get; set; }

    /// <summary>Stripe's <c>fixtures3.json</c>; by default the copy shipped beside the assembly (Fixtures/).</summary>
    public string? FixturesPath { get; set; }

    /// <summary>The clock for <c>created</c>, the meter-event timestamp window and the 24-hour identifier window.</summary>
    public TimeProvider Time { get; set; } = TimeProvider.System;
}
