namespace Stratus.Provisioning.Policies;

public enum ImageType
{
    Gallery,
    Custom,
}

/// <summary>Graph's cloudPcProvisioningPolicy: what a Cloud PC is made from. Edits apply to new and reprovisioned Cloud PCs.</summary>
public sealed class ProvisioningPolicy
{
    public Guid Id { get; init; }

    public Guid TenantId { get; init; }

    public required string DisplayName { get; set; }

    public string Description { get; set; } = "";

    public required string ImageId { get; set; }

    public ImageType ImageType { get; set; }

    public required string ImageDisplayName { get; set; }

    /// <summary>The regions to provision in; empty means automatic (spread over the regions).</summary>
    public List<string> RegionNames { get; set; } = [];

    /// <summary>Network connections by priority; empty means the hosted network (the only one so far).</summary>
    public List<string> NetworkConnectionIds { get; set; } = [];

    public required string CloudPcNamingTemplate { get; set; }

    public bool LocalAdminEnabled { get; set; }

    public int GracePeriodInHours { get; set; } = 168;

    public DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset LastModifiedAt { get; set; }
}

/// <summary>A group given Cloud PCs of a plan by a policy. Where policies overlap, the first assigned wins.</summary>
public sealed class PolicyAssignment
{
    public Guid Id { get; init; }

    public Guid TenantId { get; init; }

    public Guid PolicyId { get; init; }

    public Guid GroupId { get; init; }

    public Guid ServicePlanId { get; init; }

    public DateTimeOffset AssignedAt { get; init; }
}
