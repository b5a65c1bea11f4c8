namespace Stratus.Identity.Ldap;

/// <summary>What one sync did, counted as it commits.</summary>
public sealed class LdapSyncTally
{
    public const int MaxWarnings = 20;

    public int UsersCreated { get; set; }

    public int UsersUpdated { get; set; }

    public int UsersDisabled { get; set; }

    public int GroupsCreated { get; set; }

    public int GroupsUpdated { get; set; }

    public int GroupsDeleted { get; set; }

    public int MembershipsAdded { get; set; }

    public int MembershipsRemoved { get; set; }

    public int Skipped { get; set; }

    public List<string> Warnings { get; } = [];

    /// <summary>The changes that published a directory event.</summary>
    public int Events => UsersCreated + UsersUpdated + UsersDisabled + GroupsDeleted + MembershipsAdded + MembershipsRemoved;

    public void Skip(string warning)
    {
        Skipped++;
        Warn(warning);
    }

    public void Warn(string warning)
    {
        if (Warnings.Count < MaxWarnings)
        {
            Warnings.Add(warning);
        }
    }
}
