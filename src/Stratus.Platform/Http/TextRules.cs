namespace Stratus.Platform.Http;

/// <summary>
/// The characters no text a client sends may hold: control characters (NUL, escape, the C1 set), which end up
/// in logs, terminals and databases that misread them, and the bidirectional overrides and isolates, which make
/// a name read differently from what it is ("evil\u202Egnp.exe" shows as "evilexe.png").
/// </summary>
public static class TextRules
{
    private static readonly string[] FreeTextSuffixes = ["description", "message", "detail", "details", "result"];

    /// <summary>The reason a text breaks the rules, or null when it does not.</summary>
    /// <param name="allowLineBreaks">Free text (a description) may hold tabs and line breaks; a name may not.</param>
    /// <param name="allowBidiControls">A secret (a password) is never shown, so its characters are its owner's business.</param>
    public static string? Violation(string text, bool allowLineBreaks, bool allowBidiControls)
    {
        ArgumentNullException.ThrowIfNull(text);
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (char.IsControl(c) && !(allowLineBreaks && c is '\t' or '\n' or '\r'))
            {
                return $"must not hold control characters (U+{(int)c:X4} at position {i}).";
            }

            if (!allowBidiControls && IsBidiControl(c))
            {
                return $"must not hold bidirectional override or isolate characters (U+{(int)c:X4} at position {i}).";
            }

            if (char.IsHighSurrogate(c) && (i + 1 == text.Length || !char.IsLowSurrogate(text[i + 1])))
            {
                return $"is not valid Unicode text (a lone surrogate at position {i}).";
            }

            if (char.IsLowSurrogate(c) && (i == 0 || !char.IsHighSurrogate(text[i - 1])))
            {
                return $"is not valid Unicode text (a lone surrogate at position {i}).";
            }
        }

        return null;
    }

    /// <summary>U+202A..U+202E (embeddings and overrides) and U+2066..U+2069 (isolates); the marks (LRM, RLM) are harmless.</summary>
    public static bool IsBidiControl(char c) => c is >= '\u202A' and <= '\u202E' or >= '\u2066' and <= '\u2069';

    /// <summary>
    /// A JSON property that carries free text, where tabs and line breaks are fine: a description, or what a host
    /// agent reports of a failure (a VM's detail, an operation's result), which quotes the hypervisor's own lines.
    /// </summary>
    public static bool IsFreeText(string field) =>
        FreeTextSuffixes.Any(suffix => field.EndsWith(suffix, StringComparison.OrdinalIgnoreCase));


    /// <summary>A field whose value no person reads back: a password or another secret.</summary>
    public static bool IsSecret(string field) =>
        field.Contains("password", StringComparison.OrdinalIgnoreCase) || field.Contains("secret", StringComparison.OrdinalIgnoreCase);
}
