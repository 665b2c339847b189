using System.Globalization;
using CsvHelper;
using Gateway.ControlPlane.Compliance;

namespace Gateway.ControlPlane.Contracts;

/// <summary>
/// A compliance report's tables as CSV (RFC 4180, UTF-8, CRLF, a header row; text escaped against spreadsheet
/// formulas): daily usage by key, route group and outcome; and the flags with their evidence and decisions.
/// </summary>
public static class ComplianceReportCsv
{
    public static readonly string[] UsageHeader = ["day", "keyId", "routeGroup", "statusClass", "count"];

    public static readonly string[] FlagsHeader = ["id", "kind", "severity", "keyId", "from", "to", "status", "purpose", "licenceVersion", "evidence", "summary", "decisions"];

    public static byte[] Usage(ComplianceReport report) => Write(UsageHeader, report.Daily.Select(d => new[]
    {
        d.Day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), d.KeyId, d.RouteGroup, d.StatusClass, d.Count.ToString(CultureInfo.InvariantCulture),
    }));

    /// <summary>One row per flag; evidence as <c>name=value</c> pairs joined by <c>; </c>, decisions as <c>time actor (role): summary</c> joined by <c> | </c>.</summary>
    public static byte[] Flags(ComplianceReport report) => Write(FlagsHeader, report.Flags.Select(f => new[]
    {
        f.Flag.Id, f.Flag.Kind, f.Flag.Severity, f.Flag.KeyId, Time(f.Flag.From), Time(f.Flag.To), f.Flag.Status, f.Flag.Purpose ?? "",
        f.Flag.LicenceVersion?.ToString(CultureInfo.InvariantCulture) ?? "",
        string.Join("; ", f.Flag.Evidence.Select(e => string.Create(CultureInfo.InvariantCulture, $"{e.Key}={e.Value}"))),
        f.Flag.Summary,
        string.Join(" | ", f.Decisions.Select(d => $"{Time(d.Time)} {d.Actor} ({d.Role}): {d.Summary}")),
    }));

    private static string Time(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static byte[] Write(string[] header, IEnumerable<string[]> rows)
    {
        using var stream = new MemoryStream();
        using (var csv = CsvWriter.Create(stream, new CsvWriterOptions { Injection = CsvInjection.Escape }, leaveOpen: true))
        {
            csv.WriteHeader(header);
            foreach (var row in rows)
            {
                csv.WriteRecord(row);
            }
        }

        return stream.ToArray();
    }
}
