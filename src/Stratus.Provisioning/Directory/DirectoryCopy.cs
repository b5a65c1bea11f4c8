namespace Stratus.Provisioning.Directory;

// Provisioning's copy of the directory, fed by identity's events and healed by reconciliation. Every row
// keeps the sequence number of the change it reflects, so events applied out of order cannot undo a newer one.

public sealed class DirectoryUser
{
    public Guid UserId { get; init; }

    public Guid TenantId { get; init; }

    public string UserPrincipalName { get; set; } = "";

    public string DisplayName { get; set; } = "";

    public bool Deleted { get; set; }

    public long Sequence { get; set; }
}

public sealed class DirectoryMembership
{
    public Guid TenantId { get; init; }

    public Guid UserId { get; init; }

    public Guid GroupId { get; init; }

    public bool Present { get; set; }

    public long Sequence { get; set; }
}

public sealed class DirectoryLicense
{
    public Guid TenantId { get; init; }

    public Guid UserId { get; init; }

    public Guid ServicePlanId { get; init; }

    public bool Present { get; set; }

    public long Sequence { get; set; }
}

/// <summary>A plan of identity's catalog as provisioning last read it.</summary>
public sealed class PlanCopy
{
    public Guid Id { get; init; }

    public required string DisplayName { get; set; }

    public int VCpuCount { get; set; }

    public int RamInGB { get; set; }

    public int StorageInGB { get; set; }
}
