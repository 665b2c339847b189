using System.Reflection;
using Gateway.Core.Problems;
using Gateway.Proxy.Problems;

namespace Gateway.Tests.Proxying;

/// <summary>
/// One title per problem type, whichever code path writes it: the catalogue (<see cref="ProblemTypes.Title"/>) is the
/// only place a title is written. Every HTTP-level problem assertion (<see cref="Infrastructure.Problems.AssertAsync"/>)
/// also checks the title against it, so the fast path, the fault handlers and the admin API are all held to it.
/// </summary>
public sealed class ProblemTitleTests
{
    private static readonly string[] Types = [.. typeof(ProblemTypes)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Where(f => f.IsLiteral && f.FieldType == typeof(string))
        .Select(f => (string)f.GetRawConstantValue()!)];

    [Fact]
    public void Catalogue_EveryProblemType_HasOneTitleOfItsOwn()
    {
        var titles = Types.ToDictionary(t => t, ProblemTypes.Title);

        Assert.Equal(28, Types.Length); // the constants of ProblemTypes: add one here when a type is added (5 webhook types, record-cap-reached, spend-cap-reached)
        Assert.All(titles.Values, t => Assert.False(string.IsNullOrWhiteSpace(t)));
        Assert.Equal(titles.Count, titles.Values.Distinct(StringComparer.Ordinal).Count());
    }

    [Fact]
    public void Catalogue_UnknownType_Throws() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => ProblemTypes.Title("urn:gateway:problem:no-such-problem"));

    [Fact]
    public void DataPlaneRejections_OfOneType_CarryTheCatalogueTitle()
    {
        var byType = Enum.GetValues<Rejection>().Select(r => r.Problem()).GroupBy(p => p.Type);

        Assert.All(byType, g => Assert.Equal([ProblemTypes.Title(g.Key)], g.Select(p => p.Title).Distinct()));
    }

    [Fact]
    public void ApiProblemFactories_TakeTheTitleOfTheirType()
    {
        ApiProblem[] problems = [ApiProblem.Invalid("name", "is required."), ApiProblem.BodyTooLarge(10), ApiProblem.NotFound("Customer", "cus_1")];

        Assert.All(problems, p => Assert.Equal(ProblemTypes.Title(p.Type), p.Title));
    }
}
