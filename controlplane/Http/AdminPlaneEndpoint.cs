using Microsoft.AspNetCore.Http.Metadata;

namespace Gateway.ControlPlane.Http;

/// <summary>Marks an endpoint of the admin plane: a host that serves two planes answers it on the admin port only.</summary>
public sealed class AdminPlaneEndpoint
{
    public static readonly AdminPlaneEndpoint Instance = new();
}

/// <summary>Marks an operation of the control-plane API: both hosts (gateway admin port, function app) serve it.</summary>
public sealed class ControlPlaneOperation
{
    public static readonly ControlPlaneOperation Instance = new();
}

/// <summary>The admin API's request body limit; routing applies it before an endpoint reads the body.</summary>
public sealed class AdminBodyLimit(long bytes) : IRequestSizeLimitMetadata
{
    public long? MaxRequestBodySize { get; } = bytes;
}
