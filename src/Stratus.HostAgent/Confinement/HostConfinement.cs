using Microsoft.Extensions.Logging;
using Stratus.HostAgent.Drivers;

namespace Stratus.HostAgent.Confinement;

/// <summary>
/// What keeps a host's guests in their place (docs/adr/0007-guest-confinement.md): the unprivileged user QEMU runs
/// as, the nftables table that keeps its sockets off the host and the control plane, and the cgroups that limit
/// each VM. Set up once per driver, before its first VM starts, and again after a failure; a VM is never started
/// without it: <see cref="EnsureAsync"/> throws, with the reason, which the driver's start passes on.
/// </summary>
public sealed partial class HostConfinement(GuestConfinementOptions options, ILogger logger)
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private Ready? _ready;

    public GuestConfinementOptions Options { get; } = options;

    /// <summary>The user, the firewall and the cgroup parents; idempotent, and cheap once in place.</summary>
    internal async Task<Ready> EnsureAsync(CancellationToken cancellationToken)
    {
        if (_ready is { } ready)
        {
            return ready;
        }

        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_ready is null)
            {
                try
                {
                    var user = await GuestUser.EnsureAsync(Options.User, cancellationToken);
                    await GuestFirewall.ApplyAsync(user, Options.ControlPlaneNetworks, cancellationToken);
                    var cgroups = GuestCgroups.Ensure();
                    _ready = new Ready(user, cgroups);
                    LogConfined(logger, user.Name, user.Uid, GuestFirewall.Table, cgroups.Kind, Options.ControlPlaneNetworks.Count);
                }
                catch (Exception exception) when (exception is VmDriverException or IOException or UnauthorizedAccessException)
                {
                    LogCannotConfine(logger, exception.Message);
                    throw new VmDriverException($"Guests cannot be confined on this host, so no VM starts: {exception.Message}", exception);
                }
            }

            return _ready;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>What is in place, once <see cref="EnsureAsync"/> succeeded; null before.</summary>
    internal Ready? Current => _ready;

    /// <summary>The memory limit of a VM's QEMU process: the plan's memory and QEMU's own overhead.</summary>
    public long MemoryLimitBytes(int planMemoryMiB) => (planMemoryMiB + (long)Options.MemoryOverheadMiB) * 1024 * 1024;

    internal sealed record Ready(GuestUser User, GuestCgroups Cgroups);

    [LoggerMessage(EventId = 4201, Level = LogLevel.Information,
        Message = "Guests confined: QEMU runs as {User} (uid {Uid}), nftables table inet {Table} keeps it off the host and {Networks} control-plane networks, limits in {Cgroups}")]
    private static partial void LogConfined(ILogger logger, string user, int uid, string table, string cgroups, int networks);

    [LoggerMessage(EventId = 4202, Level = LogLevel.Error, Message = "Guests cannot be confined on this host; no VM will start until they can: {Reason}")]
    private static partial void LogCannotConfine(ILogger logger, string reason);
}
