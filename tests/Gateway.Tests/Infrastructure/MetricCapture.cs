using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Infrastructure;

/// <summary>A measurement as a <see cref="MeterListener"/> saw it.</summary>
public sealed record Measured(string Instrument, double Value, IReadOnlyDictionary<string, object?> Tags)
{
    public string? Tag(string name) => Tags.TryGetValue(name, out var value) ? value?.ToString() : null;
}

/// <summary>
/// Listens to instruments the way an exporter would, without one: those of one gateway's meters (each gateway's
/// <see cref="IMeterFactory"/> scopes its own), or of a framework meter shared by the process.
/// </summary>
public sealed class MetricCapture : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentQueue<Measured> _measured = new();

    private MetricCapture(Func<Instrument, bool> include)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (include(instrument))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Add(instrument, value, tags));
        _listener.SetMeasurementEventCallback<int>((instrument, value, tags, _) => Add(instrument, value, tags));
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Add(instrument, value, tags));
        _listener.Start();
    }

    /// <summary>The gateway's own instruments (those its meter factory made).</summary>
    public static MetricCapture Of(TestGateway gateway)
    {
        var factory = gateway.Services.GetRequiredService<IMeterFactory>();
        return new MetricCapture(i => ReferenceEquals(i.Meter.Scope, factory));
    }

    /// <summary>A framework meter's instruments, e.g. <c>System.Net.Http</c>.</summary>
    public static MetricCapture OfMeter(string name) => new(i => i.Meter.Name == name);

    public IReadOnlyList<Measured> All => [.. _measured];

    public IReadOnlyList<Measured> Of(string instrument) => [.. _measured.Where(m => m.Instrument == instrument)];

    /// <summary>Runs the observable instruments' callbacks now and returns what the named one reported.</summary>
    public IReadOnlyList<Measured> Observe(string instrument)
    {
        _measured.Clear();
        _listener.RecordObservableInstruments();
        return Of(instrument);
    }

    /// <summary>Waits (up to 10 s) until <paramref name="done"/> holds: calls are counted just after their response is sent.</summary>
    public async Task<IReadOnlyList<Measured>> WaitForAsync(string instrument, Func<IReadOnlyList<Measured>, bool> done)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!done(Of(instrument)) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        return Of(instrument);
    }

    public void Dispose() => _listener.Dispose();

    private void Add<T>(Instrument instrument, T value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        where T : struct =>
        _measured.Enqueue(new Measured(instrument.Name, Convert.ToDouble(value, System.Globalization.CultureInfo.InvariantCulture), tags.ToArray().ToDictionary(t => t.Key, t => t.Value)));
}
