using System.Globalization;
using Gateway.Core.Problems;
using Gateway.Core.Usage;

namespace Gateway.Billing.Invoices;

/// <summary>A billing period: one UTC calendar month, written <c>yyyy-MM</c> (the usage ledger's month too).</summary>
public readonly record struct BillingPeriod(int Year, int Month)
{
    public DateTimeOffset Start => new(Year, Month, 1, 0, 0, 0, TimeSpan.Zero);

    public DateTimeOffset End => Start.AddMonths(1);

    public int FromHour => UsageCalendar.HourOf(Start);

    public int ToHour => UsageCalendar.HourOf(End);

    public override string ToString() => Start.ToString("yyyy-MM", CultureInfo.InvariantCulture);

    public static BillingPeriod Of(DateTimeOffset at) => new(at.UtcDateTime.Year, at.UtcDateTime.Month);

    /// <summary>A <c>yyyy-MM</c> text from 2000-01 to 9998-12, or the month of <paramref name="now"/> when absent.</summary>
    public static Outcome<BillingPeriod> Parse(string? text, DateTimeOffset now)
    {
        if (string.IsNullOrEmpty(text))
        {
            return Of(now);
        }

        return DateTime.TryParseExact(text, "yyyy-MM", CultureInfo.InvariantCulture, DateTimeStyles.None, out var month) && month.Year is >= 2000 and <= 9998
            ? new BillingPeriod(month.Year, month.Month)
            : ApiProblem.Invalid("period", "must be a UTC calendar month written yyyy-MM, from 2000-01 to 9998-12.");
    }
}
