namespace Gateway.Billing;

/// <summary>The shapes of Stripe ids the gateway accepts as input, checked before any storage or Stripe access.</summary>
public static class StripeIds
{
    /// <summary>Stripe's customer ids: <c>cus_</c> and letters or digits (at most 255 characters in all).</summary>
    public static bool IsCustomerId(string id) =>
        id.Length is > 4 and <= 255 && id.StartsWith("cus_", StringComparison.Ordinal) && id.AsSpan(4).IndexOfAnyExcept(Alphanumerics) < 0;

    private static readonly System.Buffers.SearchValues<char> Alphanumerics =
        System.Buffers.SearchValues.Create("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");
}
