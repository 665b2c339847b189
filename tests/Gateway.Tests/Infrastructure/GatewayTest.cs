using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Infrastructure;

/// <summary>A test class with its own upstream, starting gateways against the run's Azurite as it needs them.</summary>
public abstract class GatewayTest(Azurite azurite) : IAsyncLifetime
{
    protected Azurite Azurite { get; } = azurite;

    protected TestUpstream Upstream { get; private set; } = null!;

    public virtual async Task InitializeAsync() => Upstream = await TestUpstream.StartAsync();

    public virtual async Task DisposeAsync() => await Upstream.DisposeAsync();

    protected Task<TestGateway> StartGatewayAsync(
        Action<Dictionary<string, string?>>? settings = null,
        string? tablePrefix = null,
        Action<IServiceCollection>? services = null) =>
        TestGateway.StartAsync(Azurite, Upstream, settings, tablePrefix, services);
}

/// <summary>A test class whose tests share one gateway (each test makes its own customers and keys).</summary>
public abstract class SharedGatewayTest(Azurite azurite) : GatewayTest(azurite)
{
    protected TestGateway Gateway { get; private set; } = null!;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        Gateway = await StartGatewayAsync(Settings, services: Services);
    }

    public override async Task DisposeAsync()
    {
        await Gateway.DisposeAsync();
        await base.DisposeAsync();
    }

    /// <summary>Settings this class changes from <see cref="TestGateway.DefaultSettings"/>.</summary>
    protected virtual void Settings(Dictionary<string, string?> settings)
    {
    }

    protected virtual void Services(IServiceCollection services)
    {
    }
}
