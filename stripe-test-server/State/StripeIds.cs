using System.Security.Cryptography;

namespace Gateway.StripeTestServer.State;

/// <summary>Ids shaped like Stripe's: a resource prefix and 24 random characters.</summary>
public static class StripeIds
{
    private const string Alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

    public static string New(string prefix) => prefix + "_" + RandomNumberGenerator.GetString(Alphabet, 24);
}
