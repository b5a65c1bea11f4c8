namespace Stratus.Identity.Accounts;

/// <summary>Someone who can sign in: the platform operator (no tenant) or a member of one tenant.</summary>
public sealed class Account
{
    public Guid Id { get; init; }

    /// <summary>Null only for platform operators.</summary>
    public Guid? TenantId { get; init; }

    public required string UserName { get; set; }

    /// <summary>Upper-invariant user name: sign-in is case-insensitive on every database.</summary>
    public required string NormalizedUserName { get; set; }

    public required string DisplayName { get; set; }

    public string? GivenName { get; set; }

    public string? Surname { get; set; }

    public string? Mail { get; set; }

    /// <summary>Null for users who cannot sign in with a password yet (created by SCIM or LDAP).</summary>
    public string? PasswordHash { get; set; }

    /// <summary>The id an identity provider (SCIM) gave it, or its LDAP entry's DN.</summary>
    public string? ExternalId { get; set; }

    public DirectorySource Source { get; set; }

    public List<string> Roles { get; set; } = [];

    public bool Enabled { get; set; } = true;

    public DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset UpdatedAt { get; set; }

    public static string Normalize(string userName)
    {
        ArgumentNullException.ThrowIfNull(userName);
        return userName.Trim().ToUpperInvariant();
    }
}
