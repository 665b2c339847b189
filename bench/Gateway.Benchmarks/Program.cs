using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

// In-process: no generated child project, so the repository's strict build settings never meet generated code.
//   dotnet run -c Release --project bench/Gateway.Benchmarks -- --filter '*'            (default job)
//   dotnet run -c Release --project bench/Gateway.Benchmarks -- --quick --filter '*'    (short job, ~1 min)
//   dotnet run -c Release --project bench/Gateway.Benchmarks -- key-memory <storage connection string> 1000,10000
//                                                                        (memory per active key; bench/key-memory.sh)
if (args is ["key-memory", var storage, var counts])
{
    return await Gateway.Benchmarks.KeyMemory.RunAsync(storage, [.. counts.Split(',').Select(int.Parse)]);
}

var quick = args.Contains("--quick");
var job = (quick ? Job.ShortRun : Job.Default).WithToolchain(InProcessEmitToolchain.Instance);
return BenchmarkSwitcher.FromAssembly(typeof(Gateway.Benchmarks.HotPathBenchmarks).Assembly)
    .Run([.. args.Where(a => a != "--quick")], DefaultConfig.Instance.AddJob(job)).Any(s => s.HasCriticalValidationErrors) ? 1 : 0;
