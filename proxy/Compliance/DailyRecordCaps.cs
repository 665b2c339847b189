using Gateway.Compliance;
using Gateway.Core.Keys;

namespace Gateway.Proxy.Compliance;

/// <summary>
/// The daily record cap a key is held to: its stored licence's (plan terms with the admin's overrides, as of its latest
/// version), else its plan's current terms. Read when the key is loaded or refreshed, alongside its quota baseline;
/// only when some route counts records (<see cref="RecordRoutes"/>), since without records there is nothing to cap.
/// </summary>
public sealed class DailyRecordCaps(RecordRoutes routes, KeyLicences licences, LicenceCatalog catalog)
{
    /// <summary>The key's cap (0: none).</summary>
    public async Task<long> LoadAsync(ApiKeyRecord key, CancellationToken cancellationToken)
    {
        if (!routes.Any)
        {
            return 0;
        }

        var licence = await licences.CurrentAsync(key.Id, cancellationToken);
        return licence?.Terms.DailyRecordCap ?? (catalog.TryGetTerms(key.Plan, out var terms) ? terms.DailyRecordCap : 0);
    }
}
