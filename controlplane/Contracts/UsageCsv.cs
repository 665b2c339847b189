using System.Globalization;
using CsvHelper;
using Gateway.Core.Usage;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace Gateway.ControlPlane.Contracts;

/// <summary>
/// A usage report as CSV (RFC 4180, UTF-8, CRLF): a header row, then one row per bucket in the report's order.
/// Chosen by <c>Accept: text/csv</c> when the caller ranks CSV at least as high as JSON.
/// </summary>
public static class UsageCsv
{
    public const string MediaType = "text/csv";
    public const string ContentType = "text/csv; charset=utf-8";

    /// <summary>The header row: the bucket's fields, by the names the JSON answer uses.</summary>
    public static readonly string[] Header = ["start", "routeGroup", "statusClass", "count"];

    /// <summary>Whether the request asks for CSV: <c>text/csv</c> acceptable, and not ranked below JSON.</summary>
    public static bool IsWanted(HttpRequest request)
    {
        if (!MediaTypeHeaderValue.TryParseList(request.Headers.Accept, out var accepted))
        {
            return false;
        }

        double csv = 0, json = 0;
        foreach (var range in accepted)
        {
            var quality = range.Quality ?? 1;
            if (range.MediaType.Equals(MediaType, StringComparison.OrdinalIgnoreCase))
            {
                csv = Math.Max(csv, quality);
            }
            else if (range.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
                || range.MediaType.Equals("application/*", StringComparison.OrdinalIgnoreCase)
                || range.MediaType.Equals("*/*", StringComparison.OrdinalIgnoreCase))
            {
                json = Math.Max(json, quality);
            }
        }

        return csv > 0 && csv >= json;
    }

    /// <summary>The report's buckets as CSV bytes. Times are ISO 8601 UTC; text fields are escaped against spreadsheet formulas.</summary>
    public static byte[] Write(UsageReport report)
    {
        using var stream = new MemoryStream();
        using (var csv = CsvWriter.Create(stream, new CsvWriterOptions { Injection = CsvInjection.Escape }, leaveOpen: true))
        {
            csv.WriteHeader(Header);
            foreach (var bucket in report.Buckets)
            {
                csv.WriteRecord(
                    bucket.Start.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
                    bucket.RouteGroup,
                    bucket.StatusClass,
                    bucket.Count.ToString(CultureInfo.InvariantCulture));
            }
        }

        return stream.ToArray();
    }

    /// <summary>The download's name: whose usage over which period, e.g. <c>usage-cus_…-20261101T0000Z-20261201T0000Z.csv</c>.</summary>
    public static string FileName(UsageReport report) =>
        string.Create(CultureInfo.InvariantCulture, $"usage-{report.CustomerId}{(report.KeyId is null ? "" : "-" + report.KeyId)}-{report.From.UtcDateTime:yyyyMMdd'T'HHmm}Z-{report.To.UtcDateTime:yyyyMMdd'T'HHmm}Z.csv");
}
