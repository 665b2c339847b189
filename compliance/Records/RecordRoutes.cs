using System.Collections.Frozen;
using Microsoft.Extensions.Options;

namespace Gateway.Compliance;

/// <summary>The routes whose responses carry record ids, by YARP route id, with their parsed <see cref="RecordIdPath"/>.</summary>
public sealed class RecordRoutes(IOptions<ComplianceOptions> options)
{
    private readonly FrozenDictionary<string, RecordIdPath> _paths = options.Value.Routes
        .Where(r => !string.IsNullOrEmpty(r.Value.RecordIdPath) && RecordIdPath.TryParse(r.Value.RecordIdPath, out _, out _))
        .ToFrozenDictionary(r => r.Key, r => { RecordIdPath.TryParse(r.Value.RecordIdPath, out var path, out _); return path; }, StringComparer.Ordinal);

    /// <summary>Any route configured: only then are records counted (and the daily record cap can bind).</summary>
    public bool Any => _paths.Count > 0;

    public bool TryGet(string routeId, out RecordIdPath path) => _paths.TryGetValue(routeId, out path!);
}
