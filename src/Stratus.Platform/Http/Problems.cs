using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Stratus.Platform.Http;

/// <summary>
/// The errors Stratus answers with, as RFC 9457 problem details. <c>type</c> is a stable code that
/// clients can switch on; <c>detail</c> says what to do.
/// </summary>
public static class Problems
{
    public const string TypePrefix = "https://stratus.dev/problems/";

    public static ProblemHttpResult NotFound(string what, object id) => TypedResults.Problem(
        statusCode: StatusCodes.Status404NotFound,
        title: "Not found",
        detail: $"There is no {what} with id '{id}' that you can see.",
        type: TypePrefix + "not-found");

    public static ProblemHttpResult Conflict(string code, string detail) => TypedResults.Problem(
        statusCode: StatusCodes.Status409Conflict, title: "Conflict", detail: detail, type: TypePrefix + code);

    public static ProblemHttpResult Unauthorized(string detail) => TypedResults.Problem(
        statusCode: StatusCodes.Status401Unauthorized, title: "Unauthorized", detail: detail, type: TypePrefix + "unauthorized");

    public static ProblemHttpResult Forbidden(string detail) => TypedResults.Problem(
        statusCode: StatusCodes.Status403Forbidden, title: "Forbidden", detail: detail, type: TypePrefix + "forbidden");

    public static ProblemHttpResult TooManyRequests(string detail) => TypedResults.Problem(
        statusCode: StatusCodes.Status429TooManyRequests, title: "Too many requests", detail: detail, type: TypePrefix + "too-many-requests");

    /// <summary>Another service this request needs did not answer: nothing the caller did wrong, the same request later.</summary>
    public static ProblemHttpResult DependencyUnavailable(string detail) => TypedResults.Problem(
        statusCode: StatusCodes.Status503ServiceUnavailable, title: "Service unavailable", detail: detail, type: TypePrefix + "dependency-unavailable");

    public static ValidationProblem Validation(IDictionary<string, string[]> errors) => TypedResults.ValidationProblem(
        errors, title: "The request is not valid", detail: "Correct the fields named in 'errors' and send it again.", type: TypePrefix + "validation");

    public static ValidationProblem Validation(string field, string message) =>
        Validation(new Dictionary<string, string[]> { [field] = [message] });

    /// <summary>A request with no body where one is needed: a PATCH without it would otherwise change nothing and still be audited.</summary>
    public static ValidationProblem MissingBody(string example) =>
        Validation("body", $"Send the fields to change as a JSON object, such as {example}.");
}

/// <summary>Collects every field error of a request, so that one answer names them all.</summary>
public sealed class Validator
{
    private readonly Dictionary<string, List<string>> errors = new(StringComparer.Ordinal);

    public bool IsValid => errors.Count == 0;

    public Validator Require(string field, string? value, int maxLength = 256)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            Add(field, $"'{field}' is required.");
        }
        else if (value.Length > maxLength)
        {
            Add(field, $"'{field}' must be at most {maxLength} characters.");
        }

        return this;
    }

    public Validator Check(bool condition, string field, string message)
    {
        if (!condition)
        {
            Add(field, message);
        }

        return this;
    }

    public void Add(string field, string message)
    {
        if (!errors.TryGetValue(field, out var list))
        {
            errors[field] = list = [];
        }

        list.Add(message);
    }

    public ValidationProblem ToProblem() => Problems.Validation(errors.ToDictionary(e => e.Key, e => e.Value.ToArray()));
}

public sealed record PagedResult<T>(IReadOnlyList<T> Value, int TotalCount);

public static class Paging
{
    public const int DefaultTop = 100;
    public const int MaxTop = 1000;

    public static ValidationProblem? Validate(int? top, int? skip)
    {
        var validator = new Validator()
            .Check(top is null or (>= 1 and <= MaxTop), "$top", $"'$top' must be between 1 and {MaxTop}.")
            .Check(skip is null or >= 0, "$skip", "'$skip' must be 0 or more.");
        return validator.IsValid ? null : validator.ToProblem();
    }
}
