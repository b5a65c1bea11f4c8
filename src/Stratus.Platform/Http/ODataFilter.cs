using System.Text.RegularExpressions;

namespace Stratus.Platform.Http;

/// <summary>
/// The small part of OData's $filter that Stratus answers: <c>property eq 'text'</c>, <c>eq true|false</c>
/// or <c>eq number</c>, joined by <c>and</c>. Anything else is refused with a message saying what is
/// supported, rather than half-understood.
/// </summary>
public static partial class ODataFilter
{
    public sealed record Result(IReadOnlyList<(string Property, string Value)> Conditions, string? Error);

    [GeneratedRegex(@"^\s*(?<property>[A-Za-z][A-Za-z0-9]*)\s+eq\s+(?:'(?<text>(?:[^']|'')*)'|(?<literal>true|false|-?\d+))\s*$", RegexOptions.IgnoreCase)]
    private static partial Regex Condition();

    [GeneratedRegex(@"\s+and\s+", RegexOptions.IgnoreCase)]
    private static partial Regex And();

    public static Result Parse(string filter, params string[] properties)
    {
        ArgumentNullException.ThrowIfNull(filter);
        ArgumentNullException.ThrowIfNull(properties);
        var supported = $"Supported: <property> eq 'value' joined by 'and', on {string.Join(", ", properties)}.";
        if (filter.Length > 2000)
        {
            return new([], "is too long. " + supported);
        }

        var conditions = new List<(string, string)>();
        foreach (var part in SplitOutsideQuotes(filter))
        {
            var match = Condition().Match(part);
            if (!match.Success)
            {
                return new([], $"cannot be read near \"{part.Trim()}\". {supported}");
            }

            var property = properties.FirstOrDefault(p => p.Equals(match.Groups["property"].Value, StringComparison.OrdinalIgnoreCase));
            if (property is null)
            {
                return new([], $"cannot filter on '{match.Groups["property"].Value}'. {supported}");
            }

            var value = match.Groups["text"].Success ? match.Groups["text"].Value.Replace("''", "'", StringComparison.Ordinal) : match.Groups["literal"].Value.ToLowerInvariant();
            conditions.Add((property, value));
        }

        return new(conditions, null);
    }

    private static IEnumerable<string> SplitOutsideQuotes(string filter)
    {
        // 'and' inside a quoted value is text, not an operator.
        var start = 0;
        var quoted = false;
        for (var i = 0; i < filter.Length; i++)
        {
            if (filter[i] == '\'')
            {
                quoted = !quoted;
            }
            else if (!quoted && And().Match(filter, i) is { Success: true } match && match.Index == i)
            {
                yield return filter[start..i];
                start = i + match.Length;
                i = start - 1;
            }
        }

        yield return filter[start..];
    }
}
