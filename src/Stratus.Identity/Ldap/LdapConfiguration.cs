namespace Stratus.Identity.Ldap;

/// <summary>A tenant's LDAP directory, which the sync imports users, groups and memberships from.</summary>
public sealed class LdapConfiguration
{
    public Guid TenantId { get; init; }

    /// <summary>ldap://host[:port] or ldaps://host[:port].</summary>
    public required string Url { get; set; }

    public required string BindDn { get; set; }

    /// <summary>The bind password as Data Protection protected it; the clear text is never stored.</summary>
    public required string ProtectedBindPassword { get; set; }

    public List<string> BaseDns { get; set; } = [];

    public required string UserFilter { get; set; }

    public required string GroupFilter { get; set; }

    public required string UserNameAttribute { get; set; }

    public required string DisplayNameAttribute { get; set; }

    /// <summary>Null: not synced.</summary>
    public string? GivenNameAttribute { get; set; }

    public string? SurnameAttribute { get; set; }

    public string? MailAttribute { get; set; }

    public required string GroupNameAttribute { get; set; }

    public required string MemberAttribute { get; set; }

    /// <summary>A stable id attribute (entryUUID, objectGUID); null: the entry's DN is its id.</summary>
    public string? ExternalIdAttribute { get; set; }

    public TimeSpan SyncInterval { get; set; }

    public DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset UpdatedAt { get; set; }

    /// <summary>
    /// The one live schedule of the tenant: only the scheduled message that carries this token runs a sync,
    /// and running it replaces the token with the next one's. Re-arming takes a new token, which turns any
    /// earlier scheduled message into a no-op, so a tenant never has two schedules.
    /// </summary>
    public Guid ScheduleToken { get; set; }

    public DateTimeOffset NextSyncAt { get; set; }

    /// <summary>Set while a sync of the tenant runs (by any instance), so that two never run at once.</summary>
    public DateTimeOffset? SyncLeaseUntil { get; set; }

    /// <summary>The message whose sync holds the lease: its redelivery after a crash may take the lease over.</summary>
    public Guid? SyncLeaseOwner { get; set; }

    public IEnumerable<string> UserAttributes() =>
        new[] { UserNameAttribute, DisplayNameAttribute, GivenNameAttribute, SurnameAttribute, MailAttribute, ExternalIdAttribute }
            .OfType<string>().Distinct(StringComparer.OrdinalIgnoreCase);

    public IEnumerable<string> GroupAttributes() =>
        new[] { GroupNameAttribute, MemberAttribute, ExternalIdAttribute }.OfType<string>().Distinct(StringComparer.OrdinalIgnoreCase);
}

public enum LdapSyncTrigger
{
    Manual,
    Scheduled,
}

/// <summary>The outcome of a tenant's last sync.</summary>
public sealed class LdapSyncStatus
{
    public Guid TenantId { get; init; }

    public Guid SyncId { get; set; }

    public LdapSyncTrigger Trigger { get; set; }

    public DateTimeOffset StartedAt { get; set; }

    public DateTimeOffset FinishedAt { get; set; }

    public bool Succeeded { get; set; }

    /// <summary>A stable code for the failure (serverUnavailable, invalidCredentials, ...); null on success.</summary>
    public string? Error { get; set; }

    public string? Reason { get; set; }

    public int UsersCreated { get; set; }

    public int UsersUpdated { get; set; }

    public int UsersDisabled { get; set; }

    public int GroupsCreated { get; set; }

    public int GroupsUpdated { get; set; }

    public int GroupsDeleted { get; set; }

    public int MembershipsAdded { get; set; }

    public int MembershipsRemoved { get; set; }

    public int Skipped { get; set; }

    /// <summary>Why entries were skipped, the first few.</summary>
    public List<string> Warnings { get; set; } = [];

    public DateTimeOffset? LastSuccessAt { get; set; }
}
