namespace Stratus.Identity.Groups;

/// <summary>A directory group of a tenant; provisioning policies are assigned to groups.</summary>
public sealed class Group
{
    public Guid Id { get; init; }

    public Guid TenantId { get; init; }

    public required string DisplayName { get; set; }

    public string? Description { get; set; }

    /// <summary>The id an identity provider (SCIM) or LDAP gave it.</summary>
    public string? ExternalId { get; set; }

    public DirectorySource Source { get; set; }

    public DateTimeOffset CreatedAt { get; init; }
}

public sealed class GroupMember
{
    public Guid GroupId { get; init; }

    public Guid UserId { get; init; }

    public Guid TenantId { get; init; }

    public DateTimeOffset AddedAt { get; init; }
}
