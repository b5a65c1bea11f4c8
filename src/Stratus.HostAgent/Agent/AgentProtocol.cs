namespace Stratus.HostAgent.Agent;

// The agent's own copy of the compute service's agent protocol (see Stratus.Compute/Agents).

internal sealed record EnrollRequest(string EnrollmentToken, string Name, string? Region, string Zone, string Driver, string Accelerator, int VCpus, int MemoryMiB, int DiskGiB, string AgentVersion);

internal sealed record EnrollResponse(Guid HostId, string AgentToken, string Region, string Zone);

internal sealed record DesiredVm(Guid Id, string ImageId, int VCpuCount, int MemoryMiB, int DiskGiB, string Power, bool Delete, long Generation);

internal sealed record DesiredOperation(Guid Id, Guid VmId, string Kind, string? Argument);

/// <summary>Connect the VM's display out to Url (a gateway instance's WebSocket), showing Secret; see ConsoleRelayDialer.</summary>
internal sealed record DesiredConsoleRelay(Guid Id, Guid VmId, string Url, string Secret);

/// <summary>ConsoleRelays is null from a control plane older than console relays.</summary>
internal sealed record DesiredState(
    Guid HostId, long Version, IReadOnlyList<DesiredVm> Vms, IReadOnlyList<DesiredOperation> Operations, IReadOnlyList<DesiredConsoleRelay>? ConsoleRelays = null);

internal sealed record ReportedVm(Guid Id, string State, bool Ready, long Generation, string? Detail);

internal sealed record ReportedOperation(Guid Id, bool Succeeded, string? Result);

internal sealed record AgentReport(string Accelerator, string AgentVersion, IReadOnlyList<ReportedVm> Vms, IReadOnlyList<ReportedOperation> Operations);

/// <summary>What enrollment gave this host, kept in its data folder so that a restart is the same host.</summary>
internal sealed record AgentIdentity(Guid HostId, string AgentToken, string Region, string Zone);
