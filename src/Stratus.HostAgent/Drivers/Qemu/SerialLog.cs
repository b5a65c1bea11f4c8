using System.Text;
using System.Text.RegularExpressions;

namespace Stratus.HostAgent.Drivers.Qemu;

/// <summary>Reading what a guest wrote on its serial console.</summary>
internal static partial class SerialLog
{
    /// <summary>The last <paramref name="lines"/> lines, without terminal escape sequences and control characters.</summary>
    public static string Tail(string text, int lines)
    {
        var all = Clean(text).TrimEnd().Split('\n');
        return string.Join('\n', all.Skip(Math.Max(0, all.Length - lines)));
    }

    /// <summary>The text without terminal escape sequences and control characters other than new lines and tabs.</summary>
    public static string Clean(string text)
    {
        var clean = new StringBuilder(text.Length);
        foreach (var c in EscapeSequence().Replace(text, ""))
        {
            if (c == '\n' || c == '\t' || !char.IsControl(c))
            {
                clean.Append(c);
            }
        }

        return clean.ToString();
    }

    /// <summary>The kernel's last words when a guest powers itself off: a stop, not a crash.</summary>
    public static bool EndsWithPowerOff(string text) =>
        Tail(text, 3).Contains("reboot: Power down", StringComparison.Ordinal);

    [GeneratedRegex(@"\x1B(\[[0-9;?]*[ -/]*[@-~]|[@-Z\\-_])")]
    private static partial Regex EscapeSequence();
}
