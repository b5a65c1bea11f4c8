namespace Stratus.Compute.Networks;

/// <summary>
/// Compute's copy of a tenant's network connection (issue 20), kept from network's events: every host of its region
/// realizes it. A deleted one stays as a tombstone (Deleted): it leaves the hosts' desired state at once, its hosts'
/// service addresses are freed, VMs still on it keep their NIC until they go, and an older upsert that arrives late
/// cannot bring it back.
/// </summary>
public sealed class NetworkConnection
{
    public Guid Id { get; init; }

    public Guid TenantId { get; set; }

    public required string Region { get; set; }

    /// <summary>Network's version of the connection: an event with an older one is ignored.</summary>
    public long Version { get; set; }

    public required string Subnet { get; set; }

    public required string Gateway { get; set; }

    public int Mtu { get; set; }

    public required string UplinkKind { get; set; }

    public required string UplinkInterface { get; set; }

    public int? VlanId { get; set; }

    public int? VxlanId { get; set; }

    public string? VxlanRemote { get; set; }

    public int? VxlanPort { get; set; }

    public List<string> DnsServers { get; set; } = [];

    public string? DnsSearchDomain { get; set; }

    public List<string> DnsNamesToResolve { get; set; } = [];

    public List<string> RequiredEndpoints { get; set; } = [];

    /// <summary>The run the hosts are to check for (network.healthCheckRequested); a new one makes every host check again.</summary>
    public Guid? CheckRunId { get; set; }

    public bool Deleted { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }
}

/// <summary>
/// An address of a connection's subnet given to a VM (its NIC, from the bottom) or to a host (its service address in
/// the connection's namespace, from the top). The key makes an address given twice impossible, whatever races.
/// </summary>
public sealed class NetworkAddress
{
    public Guid ConnectionId { get; init; }

    public required string Address { get; init; }

    public Guid? VmId { get; init; }

    public Guid? HostId { get; init; }

    public DateTimeOffset AllocatedAt { get; init; }
}

/// <summary>The latest checks of a connection a host reported that compute published (one event per CheckedAt).</summary>
public sealed class HostNetworkCheck
{
    public Guid HostId { get; init; }

    public Guid ConnectionId { get; init; }

    public DateTimeOffset CheckedAt { get; set; }
}
