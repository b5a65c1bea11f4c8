namespace Stratus.Identity.Licensing;

/// <summary>A size of Cloud PC that the operator sells; a license is a seat of one.</summary>
public sealed class ServicePlan
{
    public Guid Id { get; init; }

    public required string DisplayName { get; set; }

    public int VCpuCount { get; set; }

    public int RamInGB { get; set; }

    public int StorageInGB { get; set; }

    public DateTimeOffset CreatedAt { get; init; }
}

/// <summary>A tenant's subscription to a plan: how many seats it bought.</summary>
public sealed class SubscribedSku
{
    public Guid TenantId { get; init; }

    public Guid ServicePlanId { get; init; }

    /// <summary>Seats bought; the operator sets it.</summary>
    public int PrepaidUnits { get; set; }

    public DateTimeOffset CreatedAt { get; init; }
}

/// <summary>One seat of a plan held by one user.</summary>
public sealed class LicenseAssignment
{
    public Guid UserId { get; init; }

    public Guid ServicePlanId { get; init; }

    public Guid TenantId { get; init; }

    public DateTimeOffset AssignedAt { get; init; }
}
