using System.Buffers;
using System.Security.Cryptography;

namespace Gateway.Core.Customers;

/// <summary>
/// The shape of a customer id: <c>cus_</c> and 16 lowercase letters or digits from a CSPRNG. Input that is not of
/// this shape names no customer, so it is refused before any storage access.
/// </summary>
public static class CustomerIds
{
    public const string Prefix = "cus_";
    public const int RandomLength = 16;
    public const int Length = 4 + RandomLength;
    private const string Alphabet = "0123456789abcdefghijklmnopqrstuvwxyz";
    private static readonly SearchValues<char> AlphabetValues = SearchValues.Create(Alphabet);

    public static string New() => Prefix + RandomNumberGenerator.GetString(Alphabet, RandomLength);

    public static bool IsWellFormed(ReadOnlySpan<char> id) =>
        id.Length == Length
        && id.StartsWith(Prefix, StringComparison.Ordinal)
        && !id[Prefix.Length..].ContainsAnyExcept(AlphabetValues);
}
