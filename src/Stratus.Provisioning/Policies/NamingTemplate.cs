using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace Stratus.Provisioning.Policies;

/// <summary>
/// cloudPcNamingTemplate as in Windows 365: letters, digits and hyphens, an optional %USERNAME:X% (the first X
/// characters of the user name) and a required %RAND:Y% (Y random characters, Y at least 5); the names it makes
/// are 5 to 15 characters, as device names must be.
/// </summary>
public static partial class NamingTemplate
{
    public const string Default = "CPC-%USERNAME:4%-%RAND:5%";

    [GeneratedRegex(@"%(?<macro>[A-Za-z]+):(?<count>\d+)%")]
    private static partial Regex Macro();

    [GeneratedRegex(@"^[A-Za-z0-9-]*$")]
    private static partial Regex Literal();

    /// <summary>Null when valid, else what is wrong in words a person can act on.</summary>
    public static string? Validate(string template)
    {
        ArgumentNullException.ThrowIfNull(template);
        var rand = 0;
        var username = 0;
        foreach (Match match in Macro().Matches(template))
        {
            var count = int.Parse(match.Groups["count"].Value, System.Globalization.CultureInfo.InvariantCulture);
            switch (match.Groups["macro"].Value.ToUpperInvariant())
            {
                case "RAND" when rand > 0:
                case "USERNAME" when username > 0:
                    return $"'{match.Value}' appears twice; use each macro at most once.";
                case "RAND":
                    rand = count;
                    break;
                case "USERNAME":
                    username = count;
                    break;
                default:
                    return $"'{match.Value}' is not a macro; use %USERNAME:X% and %RAND:Y%.";
            }
        }

        var literal = Macro().Replace(template, "");
        if (!Literal().IsMatch(literal))
        {
            return "may contain only letters, digits, hyphens and the macros %USERNAME:X% and %RAND:Y%.";
        }

        if (rand < 5)
        {
            return "must contain %RAND:Y% with Y at least 5, so that names are unique, for example CPC-%USERNAME:4%-%RAND:5%.";
        }

        if (Macro().Matches(template).Any(m => m.Groups["macro"].Value.Equals("USERNAME", StringComparison.OrdinalIgnoreCase)) && username < 1)
        {
            return "%USERNAME:X% needs X of at least 1.";
        }

        var length = literal.Length + rand + username;
        return length is < 5 or > 15 ? $"makes names of {length} characters; they must be 5 to 15 characters (literal text plus X plus Y)." : null;
    }

    public static string Apply(string template, string userPrincipalName)
    {
        ArgumentNullException.ThrowIfNull(template);
        ArgumentNullException.ThrowIfNull(userPrincipalName);
        var user = new string(userPrincipalName.Split('@')[0].Where(char.IsAsciiLetterOrDigit).ToArray()).ToUpperInvariant();
        return Macro().Replace(template, match =>
        {
            var count = int.Parse(match.Groups["count"].Value, System.Globalization.CultureInfo.InvariantCulture);
            return match.Groups["macro"].Value.ToUpperInvariant() == "RAND"
                ? Random(count)
                : user[..Math.Min(count, user.Length)];
        }).ToUpperInvariant();
    }

    private static string Random(int count)
    {
        const string alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
        var text = new StringBuilder(count);
        for (var i = 0; i < count; i++)
        {
            text.Append(alphabet[RandomNumberGenerator.GetInt32(alphabet.Length)]);
        }

        return text.ToString();
    }
}
