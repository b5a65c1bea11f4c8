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

    public required string PasswordHash { get; set; }

    public List<string> Roles { get; set; } = [];

    public bool Enabled { get; set; } = true;

    public DateTimeOffset CreatedAt { get; init; }

    public static string Normalize(string userName)
    {
        ArgumentNullException.ThrowIfNull(userName);
        return userName.Trim().ToUpperInvariant();
    }
}
