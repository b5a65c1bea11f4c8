namespace Stratus.HostAgent.Drivers;

/// <summary>A driver operation failed; the message says what and, where it can, why.</summary>
public class VmDriverException : Exception
{
    public VmDriverException(string message) : base(message) { }

    public VmDriverException(string message, Exception innerException) : base(message, innerException) { }
}

public sealed class VmNotFoundException(string vmId) : VmDriverException($"There is no VM '{vmId}' on this host.")
{
    public string VmId { get; } = vmId;
}

public sealed class SnapshotNotFoundException(string vmId, string snapshotName)
    : VmDriverException($"VM '{vmId}' has no snapshot '{snapshotName}'.")
{
    public string VmId { get; } = vmId;
    public string SnapshotName { get; } = snapshotName;
}

/// <summary>The request contradicts what exists: another spec under the same id, a smaller disk.</summary>
public sealed class VmConflictException(string message) : VmDriverException(message);

/// <summary>The guest did not report ready in time, or its process ended while booting.</summary>
public sealed class VmBootFailedException(string vmId, string reason, string serialLogTail)
    : VmDriverException($"VM '{vmId}' did not boot: {reason}. Last lines of its serial console:\n{serialLogTail}")
{
    public string VmId { get; } = vmId;
    public string Reason { get; } = reason;
    public string SerialLogTail { get; } = serialLogTail;
}
