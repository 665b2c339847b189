using System.Buffers;
using System.Buffers.Binary;
using System.IO.Hashing;
using System.Security.Cryptography;
using System.Text;

namespace Gateway.Core.Keys;

/// <summary>
/// The shape of an API key: <c>gw_{env}_{keyId}_{secret}{checksum}</c>.
/// <list type="bullet">
/// <item><c>gw_{env}_</c>: a fixed prefix per environment, so secret scanners can recognise leaked keys.</item>
/// <item><c>keyId</c>: 12 base62 characters, public; the display prefix shown in the portal.</item>
/// <item><c>secret</c>: 22 base62 characters, 130 bits from a CSPRNG.</item>
/// <item><c>checksum</c>: CRC-32 of everything before it, as 6 base62 characters, so typos fail without a lookup.</item>
/// </list>
/// </summary>
public sealed class ApiKeyFormat
{
    public const int KeyIdLength = 12;
    public const int SecretLength = 22;
    public const int ChecksumLength = 6;
    private const string Alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    private static readonly SearchValues<char> AlphabetValues = SearchValues.Create(Alphabet);

    public ApiKeyFormat(string environment)
    {
        Prefix = $"gw_{environment}_";
        Length = Prefix.Length + KeyIdLength + 1 + SecretLength + ChecksumLength;
    }

    /// <summary>The fixed start of every key of this environment, e.g. <c>gw_live_</c>.</summary>
    public string Prefix { get; }

    /// <summary>The exact length of every key of this environment.</summary>
    public int Length { get; }

    /// <summary>A new key: plaintext (shown once) and its public id.</summary>
    public (string Key, string KeyId) Generate()
    {
        var keyId = RandomNumberGenerator.GetString(Alphabet, KeyIdLength);
        return (Compose(keyId, RandomNumberGenerator.GetString(Alphabet, SecretLength)), keyId);
    }

    /// <summary>The key with this id and secret, checksum included.</summary>
    public string Compose(string keyId, string secret)
    {
        var body = $"{Prefix}{keyId}_{secret}";
        return body + Checksum(body);
    }

    /// <summary>
    /// Finds the key id where a key of this format would carry it, checking only the layout.
    /// Cheap enough for every request; the cache then compares the whole key.
    /// </summary>
    public bool TryGetKeyId(ReadOnlySpan<char> key, out ReadOnlySpan<char> keyId)
    {
        if (key.Length != Length || !key.StartsWith(Prefix, StringComparison.Ordinal) || key[Prefix.Length + KeyIdLength] != '_')
        {
            keyId = default;
            return false;
        }

        keyId = key.Slice(Prefix.Length, KeyIdLength);
        return true;
    }

    /// <summary>Full check: layout, alphabet and checksum. A key that fails it is never looked up.</summary>
    public bool IsWellFormed(ReadOnlySpan<char> key)
    {
        if (!TryGetKeyId(key, out _))
        {
            return false;
        }

        var body = key[..^ChecksumLength];
        var rest = body[Prefix.Length..];
        for (var i = 0; i < rest.Length; i++)
        {
            if (i != KeyIdLength && !IsBase62(rest[i]))
            {
                return false;
            }
        }

        Span<char> expected = stackalloc char[ChecksumLength];
        WriteChecksum(body, expected);
        return key[^ChecksumLength..].SequenceEqual(expected);
    }

    /// <summary>True for text of the shape key ids have: <see cref="KeyIdLength"/> base62 characters.</summary>
    public static bool IsKeyId(ReadOnlySpan<char> keyId) => keyId.Length == KeyIdLength && !keyId.ContainsAnyExcept(AlphabetValues);

    private static bool IsBase62(char c) => char.IsAsciiLetterOrDigit(c);

    private static string Checksum(string body)
    {
        Span<char> checksum = stackalloc char[ChecksumLength];
        WriteChecksum(body, checksum);
        return new string(checksum);
    }

    private static void WriteChecksum(ReadOnlySpan<char> body, Span<char> destination)
    {
        Span<byte> ascii = stackalloc byte[body.Length];
        var written = Encoding.ASCII.GetBytes(body, ascii);
        Span<byte> crc = stackalloc byte[4];
        Crc32.Hash(ascii[..written], crc);
        ulong value = BinaryPrimitives.ReadUInt32LittleEndian(crc);
        for (var i = ChecksumLength - 1; i >= 0; i--)
        {
            destination[i] = Alphabet[(int)(value % 62)];
            value /= 62;
        }
    }
}
