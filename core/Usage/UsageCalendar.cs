namespace Gateway.Core.Usage;

/// <summary>
/// The UTC hours and months usage is counted in, as small integers so the hot path never formats dates.
/// Hours count from the Unix epoch; months are <c>year * 12 + (month - 1)</c>. Period ends are exclusive.
/// </summary>
public static class UsageCalendar
{
    public static int HourOf(DateTimeOffset time) => (int)(time.ToUnixTimeSeconds() / 3600);

    public static DateTimeOffset HourStart(int hour) => DateTimeOffset.FromUnixTimeSeconds(hour * 3600L);

    public static int MonthOf(DateTimeOffset time)
    {
        var utc = time.UtcDateTime;
        return (utc.Year * 12) + utc.Month - 1;
    }

    public static int MonthOfHour(int hour) => MonthOf(HourStart(hour));

    public static DateTimeOffset MonthStart(int month) => new(month / 12, (month % 12) + 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>First instant after the month (exclusive end).</summary>
    public static DateTimeOffset MonthEnd(int month) => MonthStart(month + 1);

    public static string MonthText(int month) => MonthStart(month).ToString("yyyyMM", System.Globalization.CultureInfo.InvariantCulture);

    public static string HourText(int hour) => HourStart(hour).ToString("yyyyMMddHH", System.Globalization.CultureInfo.InvariantCulture);
}
