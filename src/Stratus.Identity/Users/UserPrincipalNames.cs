using System.Text.RegularExpressions;

namespace Stratus.Identity.Users;

/// <summary>The rules for user principal names (user@domain) and tenant domains.</summary>
public static partial class UserPrincipalNames
{
    public const int MaxLength = 113 + 1 + 139;

    [GeneratedRegex(@"^[A-Za-z0-9](?:[A-Za-z0-9._'+\-]{0,111}[A-Za-z0-9_'+\-])?$")]
    private static partial Regex LocalPart();

    [GeneratedRegex(@"^(?=.{3,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$")]
    private static partial Regex DomainName();

    public static bool IsValidDomain(string? domain) => domain is not null && DomainName().IsMatch(domain);

    /// <summary>
    /// Completes a bare name with the tenant's domain and checks the result; returns the error to show,
    /// or null when valid.
    /// </summary>
    public static string? Check(string? value, string domain, out string userPrincipalName)
    {
        userPrincipalName = "";
        if (string.IsNullOrWhiteSpace(value))
        {
            return "is required, as name@" + domain + ".";
        }

        var trimmed = value.Trim();
        var at = trimmed.LastIndexOf('@');
        var local = at < 0 ? trimmed : trimmed[..at];
        var suffix = at < 0 ? domain : trimmed[(at + 1)..].ToLowerInvariant();
        if (!string.Equals(suffix, domain, StringComparison.Ordinal))
        {
            return $"must end with @{domain}, the tenant's domain.";
        }

        if (!LocalPart().IsMatch(local) || local.Contains("..", StringComparison.Ordinal))
        {
            return "has a name part that is not valid: use letters, digits and . _ ' + - (not at the ends, no '..').";
        }

        userPrincipalName = local + "@" + domain;
        return null;
    }
}
