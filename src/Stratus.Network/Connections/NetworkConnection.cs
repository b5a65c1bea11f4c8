namespace Stratus.Network.Connections;

public enum UplinkKind
{
    HostInterface,
    Vlan,
    Vxlan,
}

public enum HealthCheckStatus
{
    /// <summary>Never checked.</summary>
    Pending,
    Running,
    Passed,
    Warning,
    Failed,
}

/// <summary>A tenant's own network in a region (Graph's cloudPcOnPremisesConnection), realized on every host of the region.</summary>
public sealed class NetworkConnection
{
    public Guid Id { get; init; }

    public Guid TenantId { get; init; }

    public required string DisplayName { get; set; }

    public required string Region { get; init; }

    /// <summary>IPv4 CIDR, normalized (its network address).</summary>
    public required string Subnet { get; set; }

    public required string Gateway { get; set; }

    public int Mtu { get; set; }

    public UplinkKind UplinkKind { get; set; }

    public required string UplinkInterface { get; set; }

    public int? VlanId { get; set; }

    public int? VxlanId { get; set; }

    public string? VxlanRemote { get; set; }

    public int? VxlanPort { get; set; }

    public List<string> DnsServers { get; set; } = [];

    public string? DnsSearchDomain { get; set; }

    public List<string> DnsNamesToResolve { get; set; } = [];

    public List<string> RequiredEndpoints { get; set; } = [];

    /// <summary>Increases with every change; the hosts apply a connection only at a newer version.</summary>
    public long Version { get; set; }

    public HealthCheckStatus HealthCheckStatus { get; set; }

    /// <summary>The latest completed check set, as JSON (<see cref="HealthCheckDetail"/>); null before one.</summary>
    public string? HealthCheckDetail { get; set; }

    /// <summary>When the latest run was requested: the scheduler asks for the next one an interval after it.</summary>
    public DateTimeOffset? LastRunRequestedAt { get; set; }

    /// <summary>When the latest completed run ended (or a run-less report came in): selection's freshness.</summary>
    public DateTimeOffset? LastCheckedAt { get; set; }

    /// <summary>The status of that latest completed set (selection needs it while a new run is under way).</summary>
    public HealthCheckStatus LastCompletedStatus { get; set; }

    public DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset LastModifiedAt { get; set; }

    public Guid ConcurrencyStamp { get; set; }
}
