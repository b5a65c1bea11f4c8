namespace Stratus.Compute.Hosts;

public enum HostState
{
    Ready,
    Draining,
    Down,
}

/// <summary>A machine that runs Cloud PCs under its host agent.</summary>
public sealed class Host
{
    public Guid Id { get; init; }

    public required string Name { get; set; }

    public required string Region { get; init; }

    public required string Zone { get; init; }

    public HostState State { get; set; }

    /// <summary>qemu or simulated; a simulated host says so everywhere it is shown.</summary>
    public required string Driver { get; set; }

    /// <summary>kvm or tcg for QEMU hosts; simulated otherwise.</summary>
    public required string Accelerator { get; set; }

    public int VCpuCapacity { get; set; }

    public int MemoryMiBCapacity { get; set; }

    public int DiskGiBCapacity { get; set; }

    public int VCpuAllocated { get; set; }

    public int MemoryMiBAllocated { get; set; }

    public int DiskGiBAllocated { get; set; }

    /// <summary>
    /// Bumped by every change of the host's desired VMs. The agent asks for "anything after N"; it is also
    /// the concurrency token that keeps two placements from filling the same free capacity twice.
    /// </summary>
    public long DesiredVersion { get; set; }

    public required string AgentTokenHash { get; set; }

    public DateTimeOffset EnrolledAt { get; init; }

    public DateTimeOffset? LastHeartbeatAt { get; set; }

    public string? AgentVersion { get; set; }

    /// <summary>The host's interfaces that may be a network connection's uplink, as its agent last reported them; null before.</summary>
    public List<string>? Interfaces { get; set; }

    public bool Fits(int vcpu, int memoryMiB, int diskGiB) =>
        VCpuAllocated + vcpu <= VCpuCapacity && MemoryMiBAllocated + memoryMiB <= MemoryMiBCapacity && DiskGiBAllocated + diskGiB <= DiskGiBCapacity;
}

/// <summary>A one-time secret that lets a new machine enroll as a host of one region and zone.</summary>
public sealed class EnrollmentToken
{
    public Guid Id { get; init; }

    public required string TokenHash { get; init; }

    public required string Region { get; init; }

    public DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset ExpiresAt { get; init; }

    public DateTimeOffset? UsedAt { get; set; }

    /// <summary>A new single-use token; the secret is returned once and only its hash is kept.</summary>
    public static EnrollmentToken Issue(string region, TimeSpan validFor, DateTimeOffset now, out string secret)
    {
        secret = Secrets.New();
        return new EnrollmentToken
        {
            Id = Guid.CreateVersion7(now),
            TokenHash = Secrets.Hash(secret),
            Region = region,
            CreatedAt = now,
            ExpiresAt = now.Add(validFor),
        };
    }
}
