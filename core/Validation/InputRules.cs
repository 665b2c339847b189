using System.Globalization;
using System.Net.Mail;
using Gateway.Core.Customers;
using Gateway.Core.Keys;
using Gateway.Core.Problems;

namespace Gateway.Core.Validation;

/// <summary>
/// The rules control-plane input is held to before any storage access. Each returns null when the value is
/// acceptable, or a 400 problem whose <c>errors</c> name the field. Ids in a path are checked with
/// <see cref="CustomerIds.IsWellFormed"/> and <see cref="ApiKeyFormat.IsKeyId"/> instead: a malformed path id is a 404.
/// </summary>
public static class InputRules
{
    /// <summary>The longest display name (customer names; later key names), in UTF-16 code units after trimming.</summary>
    public const int MaxNameLength = 200;

    /// <summary>The longest e-mail address (RFC 5321's path limit less the angle brackets).</summary>
    public const int MaxEmailLength = 254;

    /// <summary>A required display name: not blank, at most <see cref="MaxNameLength"/>, no control characters.</summary>
    public static ApiProblem? Name(string field, string? value)
    {
        var name = value?.Trim();
        if (string.IsNullOrEmpty(name) || name.Length > MaxNameLength)
        {
            return ApiProblem.Invalid(field, $"is required and at most {MaxNameLength} characters.");
        }

        return HasControlCharacters(name)
            ? ApiProblem.Invalid(field, "must not contain control, line-break or text-direction characters.")
            : null;
    }

    /// <summary>A plain address (<c>local@domain</c>): no display name, comment, list or control character.</summary>
    public static ApiProblem? Email(string field, string? value)
    {
        var email = value?.Trim();
        return string.IsNullOrEmpty(email)
            || email.Length > MaxEmailLength
            || HasControlCharacters(email)
            || !MailAddress.TryCreate(email, out var parsed)
            || !string.Equals(parsed.Address, email, StringComparison.Ordinal)
            ? ApiProblem.Invalid(field, $"must be a plain e-mail address such as dev@example.com, at most {MaxEmailLength} characters.")
            : null;
    }

    /// <summary>A required customer id of the shape the control plane issues.</summary>
    public static ApiProblem? CustomerId(string field, string? value) =>
        string.IsNullOrEmpty(value) ? ApiProblem.Invalid(field, "is required.")
        : CustomerIds.IsWellFormed(value) ? null
        : ApiProblem.Invalid(field, $"must be a customer id ('{CustomerIds.Prefix}' and {CustomerIds.RandomLength} lowercase letters or digits).");

    /// <summary>An optional key id: absent, or of the shape keys are issued with.</summary>
    public static ApiProblem? OptionalKeyId(string field, string? value) =>
        value is null || ApiKeyFormat.IsKeyId(value)
            ? null
            : ApiProblem.Invalid(field, $"must be a key id ({ApiKeyFormat.KeyIdLength} letters or digits).");

    /// <summary>
    /// Control characters (C0, DEL, C1), line and paragraph separators, text-direction controls that can make a
    /// name display as something else, and unpaired surrogates (not text at all).
    /// </summary>
    private static bool HasControlCharacters(string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                i++;
                continue;
            }

            if (char.IsControl(c) || char.IsSurrogate(c) || IsDirectionControl(c)
                || char.GetUnicodeCategory(c) is UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator)
            {
                return true;
            }
        }

        return false;
    }

    private static bool IsDirectionControl(char c) =>
        c is '\u061C' or '\u200E' or '\u200F' or (>= '\u202A' and <= '\u202E') or (>= '\u2066' and <= '\u2069');
}
