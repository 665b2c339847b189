using System.Security.Cryptography;
using System.Text;

namespace Gateway.Core.Keys;

/// <summary>
/// How keys are stored: SHA-256 of the whole key, hex-encoded. Keys carry 130 random bits, so a plain hash is
/// enough (no slow KDF needed); plaintext never reaches storage or logs.
/// </summary>
public static class ApiKeyHash
{
    public static string Compute(ReadOnlySpan<char> key)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        Hash(key, hash);
        return Convert.ToHexStringLower(hash);
    }

    /// <summary>Constant-time comparison of a presented key with a stored hash.</summary>
    public static bool Matches(ReadOnlySpan<char> key, string storedHash)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        Hash(key, hash);
        Span<byte> stored = stackalloc byte[SHA256.HashSizeInBytes];
        return Convert.FromHexString(storedHash, stored, out _, out var written) == System.Buffers.OperationStatus.Done
            && written == stored.Length
            && CryptographicOperations.FixedTimeEquals(hash, stored);
    }

    private static void Hash(ReadOnlySpan<char> key, Span<byte> destination)
    {
        Span<byte> utf8 = stackalloc byte[Encoding.UTF8.GetMaxByteCount(Math.Min(key.Length, 256))];
        var written = Encoding.UTF8.GetBytes(key[..Math.Min(key.Length, 256)], utf8);
        SHA256.HashData(utf8[..written], destination);
    }
}
