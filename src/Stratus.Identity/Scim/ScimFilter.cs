using System.Globalization;
using System.Text.Json;

namespace Stratus.Identity.Scim;

public enum ScimValueKind
{
    String,
    Boolean,
    Number,
    Null,
}

/// <summary>
/// One <c>attribute eq value</c>; the attribute is lower-case, without the core schema's URN. A value path such as
/// <c>emails[type eq "work"].value</c> is the attribute <c>emails.value</c> with its <paramref name="Selector"/>
/// (the conditions in the brackets).
/// </summary>
public sealed record ScimCondition(string Attribute, ScimValueKind Kind, string? Value, IReadOnlyList<ScimCondition>? Selector = null)
{
    public bool IsString(out string text)
    {
        text = Value ?? "";
        return Kind == ScimValueKind.String;
    }
}

public sealed record ScimFilterResult(IReadOnlyList<ScimCondition> Conditions, string? Error);

/// <summary>
/// The part of SCIM's filter language (RFC 7644 section 3.4.2.2) that identity providers use to find a
/// resource: <c>attribute eq "value"</c>, joined by <c>and</c>, where the attribute may be a value path such as
/// <c>emails[type eq "work"].value</c> (Entra ID matches users by work e-mail so). Everything else is refused by
/// name (invalidFilter) rather than half understood.
/// </summary>
public static class ScimFilter
{
    public const int MaxLength = 2000;

    private static readonly string[] OtherOperators = ["ne", "co", "sw", "ew", "gt", "ge", "lt", "le", "pr"];

    public static ScimFilterResult Parse(string filter, string? coreSchema)
    {
        ArgumentNullException.ThrowIfNull(filter);
        if (filter.Length > MaxLength)
        {
            return Error($"The filter is longer than {MaxLength} characters.");
        }

        var conditions = new List<ScimCondition>();
        var position = 0;
        while (true)
        {
            SkipSpace(filter, ref position);
            var attribute = ReadAttribute(filter, ref position, out var selector, out var pathError);
            if (pathError is not null)
            {
                return Error(pathError);
            }

            if (attribute.Length == 0)
            {
                return Error(conditions.Count == 0 ? "The filter is empty: use for example userName eq \"alice@contoso.example\"." : "The filter ends after 'and'.");
            }

            if (attribute.Equals("not", StringComparison.OrdinalIgnoreCase))
            {
                return Error("'not' is not supported: filter with 'attribute eq value', joined by 'and'.");
            }

            if (attribute.IndexOfAny(['(', ')', '"']) >= 0)
            {
                return Error($"'{attribute}': grouping with ( ) is not supported: filter with 'attribute eq value', joined by 'and'.");
            }

            if (coreSchema is not null && attribute.StartsWith(coreSchema + ":", StringComparison.OrdinalIgnoreCase))
            {
                attribute = attribute[(coreSchema.Length + 1)..];
            }

            SkipSpace(filter, ref position);
            var op = ReadWord(filter, ref position).ToLowerInvariant();
            if (OtherOperators.Contains(op))
            {
                return Error($"The operator '{op}' is not supported; Stratus filters with 'eq' only.");
            }

            if (op != "eq")
            {
                return Error(op.Length == 0 ? $"An operator is missing after '{attribute}'." : $"'{op}' is not an operator; use 'eq'.");
            }

            SkipSpace(filter, ref position);
            if (ReadValue(filter, ref position) is not { } value)
            {
                return Error($"The value after '{attribute} eq' must be a string in double quotes, true, false, null or a number.");
            }

            conditions.Add(new ScimCondition(attribute.ToLowerInvariant(), value.Kind, value.Text, selector));
            SkipSpace(filter, ref position);
            if (position >= filter.Length)
            {
                return new ScimFilterResult(conditions, null);
            }

            var joiner = ReadWord(filter, ref position);
            if (joiner.Equals("or", StringComparison.OrdinalIgnoreCase))
            {
                return Error("'or' is not supported; send one request per value.");
            }

            if (!joiner.Equals("and", StringComparison.OrdinalIgnoreCase))
            {
                return Error($"Expected 'and' or the end of the filter, not '{joiner}'.");
            }
        }
    }

    private static ScimFilterResult Error(string message) => new([], message);

    /// <summary>
    /// An attribute, or a value path <c>attribute[conditions].subAttribute</c>: then the attribute read is
    /// <c>attribute.subAttribute</c> and <paramref name="selector"/> the conditions in the brackets.
    /// </summary>
    private static string ReadAttribute(string text, ref int position, out IReadOnlyList<ScimCondition>? selector, out string? error)
    {
        selector = null;
        error = null;
        var start = position;
        while (position < text.Length && !char.IsWhiteSpace(text[position]) && text[position] != '[')
        {
            position++;
        }

        var attribute = text[start..position];
        if (position >= text.Length || text[position] != '[')
        {
            return attribute;
        }

        var close = text.IndexOf(']', position);
        if (attribute.Length == 0 || close < 0)
        {
            error = $"'{text[start..Math.Min(text.Length, position + 1)]}' opens a value filter with [ that is not closed with ].";
            return attribute;
        }

        var inner = Parse(text[(position + 1)..close], null);
        if (inner.Error is { } innerError)
        {
            error = $"In '{attribute}[...]': {innerError}";
            return attribute;
        }

        selector = inner.Conditions;
        position = close + 1;
        var subStart = position;
        while (position < text.Length && !char.IsWhiteSpace(text[position]))
        {
            position++;
        }

        var sub = text[subStart..position];
        if (sub.Length > 0 && (sub[0] != '.' || sub.Length == 1))
        {
            error = $"'{attribute}[...]{sub}': after ] comes a sub-attribute such as .value, then the operator.";
        }

        return sub.Length > 0 ? attribute + sub : attribute;
    }

    private static void SkipSpace(string text, ref int position)
    {
        while (position < text.Length && char.IsWhiteSpace(text[position]))
        {
            position++;
        }
    }

    private static string ReadWord(string text, ref int position)
    {
        var start = position;
        while (position < text.Length && !char.IsWhiteSpace(text[position]))
        {
            position++;
        }

        return text[start..position];
    }

    private static (ScimValueKind Kind, string? Text)? ReadValue(string text, ref int position)
    {
        if (position < text.Length && text[position] == '"')
        {
            var start = position++;
            while (position < text.Length && text[position] != '"')
            {
                position += text[position] == '\\' ? 2 : 1;
            }

            if (position >= text.Length)
            {
                return null;
            }

            position++;
            try
            {
                return (ScimValueKind.String, JsonSerializer.Deserialize<string>(text[start..position]));
            }
            catch (JsonException)
            {
                return null;
            }
        }

        var word = ReadWord(text, ref position);
        return word.ToLowerInvariant() switch
        {
            "true" or "false" => (ScimValueKind.Boolean, word.ToLowerInvariant()),
            "null" => (ScimValueKind.Null, null),
            _ when double.TryParse(word, NumberStyles.Float, CultureInfo.InvariantCulture, out _) => (ScimValueKind.Number, word),
            _ => null,
        };
    }
}
