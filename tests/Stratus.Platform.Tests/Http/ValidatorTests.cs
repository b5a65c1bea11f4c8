using Stratus.Platform.Http;

namespace Stratus.Platform.Tests.Http;

public sealed class ValidatorTests
{
    [Fact]
    public void Require_PresentShortValue_IsValid()
    {
        var validator = new Validator().Require("displayName", "Contoso");

        Assert.True(validator.IsValid);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("  ")]
    public void Require_MissingValue_NamesTheField(string? value)
    {
        var validator = new Validator().Require("displayName", value);

        Assert.False(validator.IsValid);
        var errors = validator.ToProblem().ProblemDetails.Errors;
        Assert.Equal(["'displayName' is required."], errors["displayName"]);
    }

    [Fact]
    public void Require_TooLongValue_SaysTheLimit()
    {
        var validator = new Validator()
            .Require("name", new string('x', 10), maxLength: 10)
            .Require("description", new string('x', 11), maxLength: 10);

        var errors = validator.ToProblem().ProblemDetails.Errors;
        Assert.False(errors.ContainsKey("name"));
        Assert.Equal(["'description' must be at most 10 characters."], errors["description"]);
    }

    [Fact]
    public void ToProblem_SeveralErrors_ReportsEveryOneAtOnce()
    {
        var validator = new Validator()
            .Require("userName", null)
            .Check(false, "password", "too short")
            .Check(false, "password", "needs a digit")
            .Check(true, "role", "unknown role");

        var problem = validator.ToProblem().ProblemDetails;

        Assert.Equal(400, problem.Status);
        Assert.Equal(Problems.TypePrefix + "validation", problem.Type);
        Assert.Equal(["userName", "password"], problem.Errors.Keys);
        Assert.Equal(["too short", "needs a digit"], problem.Errors["password"]);
    }

    [Fact]
    public void Add_FieldNamesDifferingInCase_AreSeparate()
    {
        var validator = new Validator();
        validator.Add("Name", "a");
        validator.Add("name", "b");

        Assert.Equal(2, validator.ToProblem().ProblemDetails.Errors.Count);
    }
}

public sealed class PagingTests
{
    [Theory]
    [InlineData(null, null)]
    [InlineData(1, 0)]
    [InlineData(Paging.MaxTop, 5000)]
    public void Validate_InRange_IsNull(int? top, int? skip)
    {
        Assert.Null(Paging.Validate(top, skip));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(Paging.MaxTop + 1)]
    public void Validate_TopOutOfRange_NamesTop(int top)
    {
        var problem = Paging.Validate(top, null);

        Assert.NotNull(problem);
        Assert.Equal(["$top"], problem.ProblemDetails.Errors.Keys);
        Assert.Contains("between 1 and 1000", problem.ProblemDetails.Errors["$top"][0], StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_BothOutOfRange_NamesBoth()
    {
        var problem = Paging.Validate(0, -1);

        Assert.NotNull(problem);
        Assert.Equal(["$top", "$skip"], problem.ProblemDetails.Errors.Keys);
    }
}
