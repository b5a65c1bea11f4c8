using Stratus.Platform.Http;

namespace Stratus.Platform.Tests.Http;

public sealed class TextRulesTests
{
    [Theory]
    [InlineData("Contoso")]
    [InlineData("Zoë Ångström")]
    [InlineData("مرحبا שלום")] // Right-to-left scripts are text; only the invisible controls are refused.
    [InlineData("family \U0001F600")] // A surrogate pair.
    public void Violation_OrdinaryText_IsNone(string text) =>
        Assert.Null(TextRules.Violation(text, allowLineBreaks: false, allowBidiControls: false));

    [Theory]
    [InlineData("a\u0000b", "U+0000")]
    [InlineData("a\u001b[31m", "U+001B")]
    [InlineData("a\u007fb", "U+007F")]
    [InlineData("a\u0085b", "U+0085")]
    [InlineData("line\nbreak", "U+000A")]
    public void Violation_ControlCharacter_NamesItAndWhere(string text, string code)
    {
        var reason = TextRules.Violation(text, allowLineBreaks: false, allowBidiControls: false);

        Assert.NotNull(reason);
        Assert.Contains("control characters", reason, StringComparison.Ordinal);
        Assert.Contains(code, reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Violation_LineBreaksInFreeText_AreAllowed_ButNotNul() =>
        Assert.Equal((null, true), (TextRules.Violation("one\r\n\ttwo", allowLineBreaks: true, allowBidiControls: false),
            TextRules.Violation("one\n\u0000", allowLineBreaks: true, allowBidiControls: false) is not null));

    [Theory]
    [InlineData("evil\u202Egnp.exe")]
    [InlineData("a\u2066b\u2069")]
    [InlineData("\u202Ax")]
    public void Violation_BidiOverride_IsRefused_ExceptInASecret(string text)
    {
        Assert.Contains("bidirectional", TextRules.Violation(text, allowLineBreaks: false, allowBidiControls: false), StringComparison.Ordinal);
        Assert.Null(TextRules.Violation(text, allowLineBreaks: false, allowBidiControls: true));
    }

    // Built at run time: a lone surrogate in an attribute's string is stored as U+FFFD in the assembly.
    [Fact]
    public void Violation_LoneSurrogate_IsRefused()
    {
        string[] texts = ["a" + (char)0xD800 + "b", new string((char)0xDC00, 1), "end" + (char)0xD83D];

        Assert.All(texts, text =>
            Assert.Contains("lone surrogate", TextRules.Violation(text, allowLineBreaks: true, allowBidiControls: true), StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("description", true)]
    [InlineData("statusDetail", true)]
    [InlineData("displayName", false)]
    [InlineData("userName", false)]
    public void IsFreeText_ByTheFieldsName(string field, bool expected) => Assert.Equal(expected, TextRules.IsFreeText(field));
}
