using LearnerVault.Xapi.Tests.Fixtures;

namespace LearnerVault.Xapi.Tests;

public sealed class StatementFixtureTests
{
    public static TheoryData<string, string, string> Cases()
    {
        var data = new TheoryData<string, string, string>();
        foreach (var c in StatementFixtures.All)
        {
            foreach (var version in c.Versions)
            {
                data.Add(c.File, c.Name, version);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Validate_FixtureCase_MatchesExpectedStatus(string file, string name, string version)
    {
        var fixture = StatementFixtures.Find(file, name);

        var result = StatementValidator.Validate(fixture.Statement, StatementCase.ParseVersion(version));

        Assert.True(
            result.IsValid == (fixture.Status == 200),
            $"{file} / {name} [{version}]: expected {fixture.Status}, validator said {(result.IsValid ? "valid" : "invalid: " + result.Error)}");
        Assert.Equal(result.IsValid, result.Error is null);
    }

    [Fact]
    public void Fixtures_AllFiles_HaveEnoughValidAndInvalidCases()
    {
        var cases = StatementFixtures.All;

        Assert.True(cases.Count >= 180, $"only {cases.Count} cases");
        Assert.True(cases.Count(c => c.Status == 200) >= 60);
        Assert.True(cases.Count(c => c.Status == 400) >= 120);
    }

    [Fact]
    public void Fixtures_AllFiles_HaveUniqueNamesKnownVersionsAndStatuses()
    {
        var cases = StatementFixtures.All;

        Assert.Equal(cases.Count, cases.Select(c => c.Name).Distinct(StringComparer.Ordinal).Count());
        Assert.All(cases, c =>
        {
            Assert.NotEmpty(c.Versions);
            Assert.All(c.Versions, v => Assert.Contains(v, new[] { "2.0.0", "1.0.3" }));
            Assert.Contains(c.Status, new[] { 200, 400 });
        });
    }

    [Fact]
    public void Fixtures_VersionSpecificCases_CoverBothVersions()
    {
        var cases = StatementFixtures.All;

        Assert.Contains(cases, c => c.Versions.SequenceEqual(["2.0.0"]) && c.Status == 200);
        Assert.Contains(cases, c => c.Versions.SequenceEqual(["1.0.3"]) && c.Status == 400);
    }

    [Fact]
    public void Fixtures_ValidCases_UseOnlySyntheticDomains()
    {
        foreach (var c in StatementFixtures.All)
        {
            var text = c.Statement.GetRawText();
            foreach (var marker in new[] { "@gmail.", "@yahoo.", "@hotmail.", "@outlook." })
            {
                Assert.DoesNotContain(marker, text, StringComparison.OrdinalIgnoreCase);
            }
        }
    }
}
