namespace Stratus.Identity.Tenants;

public enum TenantState
{
    Active,
    Suspended,
}

/// <summary>One customer organization. Every directory record belongs to exactly one.</summary>
public sealed class Tenant
{
    public Guid Id { get; init; }

    public required string DisplayName { get; set; }

    /// <summary>Lower-case DNS domain; every user principal name of the tenant ends with it.</summary>
    public required string Domain { get; init; }

    public TenantState State { get; set; }

    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>
    /// The sequence number of the tenant's last directory change event. Every change increments it in its
    /// own transaction, guarded as a concurrency token: two changes of one tenant at once cannot take the
    /// same number, so the numbers are gapless and in commit order.
    /// </summary>
    public long LastSequence { get; set; }

    /// <summary>SHA-256 of the tenant's SCIM bearer token, or null when SCIM is not enabled.</summary>
    public string? ScimTokenHash { get; set; }

    public DateTimeOffset? ScimTokenCreatedAt { get; set; }

    public long NextSequence() => ++LastSequence;
}
