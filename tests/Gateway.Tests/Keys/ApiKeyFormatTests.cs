using Gateway.Core.Keys;

namespace Gateway.Tests.Keys;

public sealed class ApiKeyFormatTests
{
    private readonly ApiKeyFormat _format = new("live");

    [Fact]
    public void GeneratedKey_HasPrefixIdSecretAndChecksum_AndIsWellFormed()
    {
        var (key, keyId) = _format.Generate();

        Assert.StartsWith("gw_live_" + keyId + "_", key, StringComparison.Ordinal);
        Assert.Equal(_format.Length, key.Length);
        Assert.True(_format.IsWellFormed(key));
        Assert.True(_format.TryGetKeyId(key, out var parsedId));
        Assert.Equal(keyId, parsedId.ToString());
    }

    [Fact]
    public void GeneratedKeys_AreDistinct()
    {
        var keys = Enumerable.Range(0, 1000).Select(_ => _format.Generate().Key).ToHashSet();

        Assert.Equal(1000, keys.Count);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(10)]
    [InlineData(25)]
    [InlineData(48)]
    public void Key_WithOneCharacterMistyped_IsNotWellFormed(int position)
    {
        var (key, _) = _format.Generate();
        var chars = key.ToCharArray();
        chars[position] = chars[position] == 'a' ? 'b' : 'a';

        Assert.False(_format.IsWellFormed(new string(chars)));
    }

    [Theory]
    [InlineData("")]
    [InlineData("gw_live_")]
    [InlineData("sk_live_abcdefghijkl_abcdefghijklmnopqrstuvABCDEF")]
    [InlineData("gw_test_abcdefghijkl_abcdefghijklmnopqrstuvABCDEF")]
    public void Key_OfAnotherShapeOrEnvironment_IsNotWellFormed(string key)
    {
        Assert.False(_format.IsWellFormed(key));
    }

    [Fact]
    public void Hash_MatchesOnlyTheSameKey()
    {
        var (key, _) = _format.Generate();
        var (other, _) = _format.Generate();
        var hash = ApiKeyHash.Compute(key);

        Assert.True(ApiKeyHash.Matches(key, hash));
        Assert.False(ApiKeyHash.Matches(other, hash));
        Assert.DoesNotContain(key, hash, StringComparison.Ordinal);
    }

    [Fact]
    public void Compose_OfAFixedIdAndSecret_GivesTheKeyThatWasAlwaysIssuedForThem()
    {
        // Keys already handed out must keep verifying: the checksum (CRC-32 in 6 base62 digits) is part of the format.
        // 4f4Cdv is zlib.crc32(body) in base62, computed independently of this code.
        var key = _format.Compose("AbCdEfGh1234", "0123456789abcdefghijkl");

        Assert.Equal("gw_live_AbCdEfGh1234_0123456789abcdefghijkl4f4Cdv", key);
        Assert.True(_format.IsWellFormed(key));
    }

    [Fact]
    public void Key_WithAValidChecksumOverACharacterOutsideBase62_IsNotWellFormed()
    {
        var inSecret = _format.Compose("AbCdEfGh1234", "0123456789-bcdefghijkl");
        var inKeyId = _format.Compose("AbCdEfGh12-4", "0123456789abcdefghijkl");
        var lastOfSecret = _format.Compose("AbCdEfGh1234", "0123456789abcdefghijk.");

        Assert.False(_format.IsWellFormed(inSecret));
        Assert.False(_format.IsWellFormed(inKeyId));
        Assert.False(_format.IsWellFormed(lastOfSecret));
    }

    [Fact]
    public void TryGetKeyId_OfAKeyWithoutTheSeparatorAfterTheId_FindsNoId()
    {
        var key = _format.Compose("AbCdEfGh1234", "0123456789abcdefghijkl").ToCharArray();
        key[_format.Prefix.Length + ApiKeyFormat.KeyIdLength] = 'x';

        Assert.False(_format.TryGetKeyId(new string(key), out var keyId));
        Assert.True(keyId.IsEmpty);
    }

    [Theory]
    [InlineData("gw_live_AbCdEfGh1234_0123456789abcdefghijklABCDE")]
    [InlineData("gw_live_AbCdEfGh1234_0123456789abcdefghijklABCDEFG")]
    [InlineData("gw_liveXAbCdEfGh1234_0123456789abcdefghijklABCDEF")]
    public void TryGetKeyId_OfAKeyOfAnotherLengthOrPrefix_FindsNoId(string key)
    {
        Assert.False(_format.TryGetKeyId(key, out _));
    }

    [Fact]
    public void TryGetKeyId_OfAWellFormedKey_FindsTheIdAfterThePrefix()
    {
        var key = new ApiKeyFormat("test").Compose("AbCdEfGh1234", "0123456789abcdefghijkl");

        Assert.True(new ApiKeyFormat("test").TryGetKeyId(key, out var keyId));
        Assert.Equal("AbCdEfGh1234", keyId.ToString());
        Assert.Equal(8 + 12 + 1 + 22 + 6, key.Length);
    }

    [Theory]
    [InlineData("AbCdEfGh1234", true)]
    [InlineData("000000000000", true)]
    [InlineData("zzzzzzzzzzzz", true)]
    [InlineData("AbCdEfGh123", false)]
    [InlineData("AbCdEfGh12345", false)]
    [InlineData("AbCdEfGh12-4", false)]
    [InlineData("", false)]
    public void IsKeyId_AcceptsExactly12Base62Characters(string text, bool expected)
    {
        Assert.Equal(expected, ApiKeyFormat.IsKeyId(text));
    }
}
