using System.Text;

namespace Gateway.Compliance;

/// <summary>
/// Where a JSON response holds its record ids: a small subset of JSONPath, <c>$</c> followed by property steps
/// (<c>.name</c>) and array wildcards (<c>[*]</c>), e.g. <c>$.data[*].id</c>, <c>$[*].id</c>, <c>$.id</c>. Each step
/// descends one level; the values the last step selects are the ids (strings or numbers; anything else is skipped).
/// Configured per route as <c>Gateway:Compliance:Routes:{routeId}:RecordIdPath</c>.
/// </summary>
public sealed class RecordIdPath
{
    /// <summary>The most steps a path may have (the extractor tracks one level per step).</summary>
    public const int MaxSteps = 16;

    private RecordIdPath(string text, byte[]?[] steps)
    {
        Text = text;
        Steps = steps;
        RecordsArrayDepth = Array.FindLastIndex(steps, s => s is null) is var last and >= 0 ? last + 1 : -1;
    }

    public string Text { get; }

    /// <summary>
    /// The nesting depth inside the list of records, the array of the path's last <c>[*]</c> (<c>$.data[*].id</c>: 2,
    /// <c>$[*].id</c>: 1); -1 when the path has no <c>[*]</c>. A canary joins that array.
    /// </summary>
    public int RecordsArrayDepth { get; }

    /// <summary>One entry per step: the property name in UTF-8, or <c>null</c> for <c>[*]</c>.</summary>
    internal byte[]?[] Steps { get; }

    /// <summary>Parses <paramref name="text"/>; false (with the reason) when it is outside the subset.</summary>
    public static bool TryParse(string? text, out RecordIdPath path, out string error)
    {
        path = null!;
        error = "";
        if (string.IsNullOrEmpty(text) || text[0] != '$')
        {
            error = "must start with '$'";
            return false;
        }

        var steps = new List<byte[]?>();
        var i = 1;
        while (i < text.Length)
        {
            if (text.AsSpan(i).StartsWith("[*]", StringComparison.Ordinal))
            {
                steps.Add(null);
                i += 3;
                continue;
            }

            if (text[i] != '.')
            {
                error = $"expected '.name' or '[*]' at position {i}";
                return false;
            }

            var start = ++i;
            while (i < text.Length && text[i] is not ('.' or '['))
            {
                i++;
            }

            if (i == start)
            {
                error = $"empty property name at position {start}";
                return false;
            }

            steps.Add(Encoding.UTF8.GetBytes(text[start..i]));
        }

        if (steps.Count is 0 or > MaxSteps)
        {
            error = $"must have from 1 to {MaxSteps} steps";
            return false;
        }

        path = new RecordIdPath(text, [.. steps]);
        return true;
    }

    public override string ToString() => Text;
}
