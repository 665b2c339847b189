using Gateway.Bench.LatencyClient;

// latency: open-loop fixed-rate load; prints one line "p50_us p99_us p999_us max_us completed errors".
// keys:    creates keys through the admin API, in parallel; writes one plaintext key per line.
return args.FirstOrDefault() switch
{
    "latency" => await OpenLoop.RunAsync(Arguments.Parse(args[1..])),
    "keys" => await KeyMaker.RunAsync(Arguments.Parse(args[1..])),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("""
        usage: LatencyClient latency --url URL --rate RPS --duration SECONDS [--warmup SECONDS] [--key KEY | --keys FILE]
               LatencyClient keys --admin URL --token TOKEN --customer ID --plan PLAN --count N [--parallel P] --out FILE
        """);
    return 2;
}
