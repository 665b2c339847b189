using System.Globalization;
using System.Text.Json;

namespace Gateway.ServiceBusBroker;

/// <summary>
/// The program's options: a JSON file (<c>--config</c>), then flags, which add entities and override settings.
/// </summary>
public static class BrokerCommandLine
{
    public const string Usage = """
        Usage: dotnet run --project servicebus-broker -- [options]
          --port N                    TCP port (default 5672; 0 picks a free one)
          --host ADDRESS              address to listen on (default 127.0.0.1)
          --queue NAME                a queue (repeatable)
          --topic NAME                a topic (repeatable)
          --subscription TOPIC/NAME   a subscription, creating its topic (repeatable)
          --config FILE               JSON: {"port":5672,"queues":["q"],"topics":{"key-changes":["gateway-1"]},
                                      "lockDurationSeconds":60,"maxDeliveryCount":10,
                                      "duplicateDetectionWindowSeconds":600,"createEntitiesOnFirstUse":true}
          --lock-duration SECONDS     peek-lock duration (default 60)
          --max-delivery-count N      deliveries before dead-lettering (default 10)
          --duplicate-window SECONDS  MessageId duplicate-detection window, 0 = off (default 600)
          --no-create-on-first-use    unknown entities are refused instead of created
        """;

    private const int DefaultPort = 5672;

    /// <summary>Reads the arguments; false with a problem to print (or none, for --help).</summary>
    public static bool TryParse(IReadOnlyList<string> args, out BrokerOptions options, out string? problem)
    {
        options = new BrokerOptions { Port = DefaultPort };
        problem = null;
        try
        {
            for (var i = 0; i < args.Count; i++)
            {
                var name = args[i];
                if (name is "--help" or "-h")
                {
                    return false;
                }

                if (name == "--no-create-on-first-use")
                {
                    options.CreateEntitiesOnFirstUse = false;
                    continue;
                }

                if (i + 1 >= args.Count)
                {
                    problem = $"{name} needs a value.";
                    return false;
                }

                var value = args[++i];
                switch (name)
                {
                    case "--port": options.Port = int.Parse(value, CultureInfo.InvariantCulture); break;
                    case "--host": options.Host = value; break;
                    case "--queue": options.Queues.Add(value); break;
                    case "--topic": options.Topics.Add(value); break;
                    case "--subscription": options.Subscriptions.Add(value); break;
                    case "--config": ApplyFile(options, value); break;
                    case "--lock-duration": options.LockDuration = Seconds(value); break;
                    case "--max-delivery-count": options.MaxDeliveryCount = int.Parse(value, CultureInfo.InvariantCulture); break;
                    case "--duplicate-window": options.DuplicateDetectionWindow = Seconds(value); break;
                    default:
                        problem = $"Unknown option {name}.";
                        return false;
                }
            }
        }
        catch (Exception e) when (e is FormatException or OverflowException or IOException or JsonException)
        {
            problem = e.Message;
            return false;
        }

        if (options.Port is < 0 or > 65535 || options.MaxDeliveryCount < 1 || options.LockDuration <= TimeSpan.Zero)
        {
            problem = "The port must be 0-65535, the max delivery count at least 1 and the lock duration positive.";
            return false;
        }

        return true;
    }

    private static TimeSpan Seconds(string value) =>
        TimeSpan.FromSeconds(double.Parse(value, NumberStyles.Float, CultureInfo.InvariantCulture));

    private static void ApplyFile(BrokerOptions options, string path)
    {
        var file = JsonSerializer.Deserialize<BrokerFile>(File.ReadAllText(path), JsonOptions)
            ?? throw new JsonException($"{path} is empty.");
        options.Port = file.Port ?? options.Port;
        options.Host = file.Host ?? options.Host;
        options.CreateEntitiesOnFirstUse = file.CreateEntitiesOnFirstUse ?? options.CreateEntitiesOnFirstUse;
        options.MaxDeliveryCount = file.MaxDeliveryCount ?? options.MaxDeliveryCount;
        if (file.LockDurationSeconds is { } lockSeconds)
        {
            options.LockDuration = TimeSpan.FromSeconds(lockSeconds);
        }

        if (file.DuplicateDetectionWindowSeconds is { } windowSeconds)
        {
            options.DuplicateDetectionWindow = TimeSpan.FromSeconds(windowSeconds);
        }

        foreach (var queue in file.Queues ?? [])
        {
            options.Queues.Add(queue);
        }

        foreach (var (topic, subscriptions) in file.Topics ?? [])
        {
            options.Topics.Add(topic);
            foreach (var subscription in subscriptions)
            {
                options.Subscriptions.Add($"{topic}/{subscription}");
            }
        }
    }

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        PropertyNameCaseInsensitive = true,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
    };

    private sealed record BrokerFile(
        int? Port,
        string? Host,
        string[]? Queues,
        Dictionary<string, string[]>? Topics,
        double? LockDurationSeconds,
        int? MaxDeliveryCount,
        double? DuplicateDetectionWindowSeconds,
        bool? CreateEntitiesOnFirstUse);
}
