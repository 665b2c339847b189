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
}
