namespace Gateway.Tests.Infrastructure;

/// <summary>
/// The size of a fault run: the CI size unless a full-size script under bench/ sets it through the environment
/// (e.g. <c>CRASH_FAULT_SENT</c> in <c>bench/crash-fault.sh</c>).
/// </summary>
public static class FaultRunSize
{
    public static int From(string variable, int ciSize) =>
        int.TryParse(Environment.GetEnvironmentVariable(variable), out var size) && size > 0 ? size : ciSize;
}
