using System.Globalization;
using Stratus.HostAgent.Confinement;

namespace Stratus.HostAgent.Drivers.Qemu;

/// <summary>
/// Starts a VM's QEMU process confined (docs/adr/0007-guest-confinement.md). QEMU's seccomp sandbox forbids the
/// fork of -daemonize and the setuid of -runas, so what they did happens before QEMU runs: a shell joins the VM's
/// cgroups (what it starts inherits them), setsid detaches QEMU into a session of its own (it outlives the agent,
/// as with -daemonize), and setpriv makes it the guest user with no capabilities and no way to regain privileges.
/// QEMU's standard error goes to qemu.log in the VM's folder; its pid comes from the pid file QEMU writes.
/// </summary>
internal static class ConfinedLaunch
{
    private const string Launcher = """
        for procs in $1; do echo $$ > "$procs" || exit 125; done
        log=$2
        shift 2
        exec "$@" </dev/null >/dev/null 2>>"$log"
        """;

    /// <summary>QEMU's seccomp sandbox, as every QEMU of a host runs under it (-sandbox's value).</summary>
    public const string Sandbox = "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny";

    /// <summary>
    /// The command prefix that runs what follows it as <paramref name="user"/>: its uid and gid only (no groups), no
    /// capabilities (inheritable or bounding), and no_new_privs, so that nothing it runs can regain privileges.
    /// </summary>
    public static IReadOnlyList<string> AsUser(GuestUser user)
    {
        ArgumentNullException.ThrowIfNull(user);
        return
        [
            "setpriv", $"--reuid={user.Uid.ToString(CultureInfo.InvariantCulture)}", $"--regid={user.Gid.ToString(CultureInfo.InvariantCulture)}",
            "--clear-groups", "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--",
        ];
    }

    public static async Task<int> StartAsync(string qemuSystem, IReadOnlyList<string> arguments, VmFolder folder, GuestUser user,
        IReadOnlyList<string> cgroupProcs, TimeProvider time, CancellationToken cancellationToken)
    {
        File.WriteAllText(folder.QemuLog, "");
        List<string> command =
        [
            "-c", Launcher, "stratus-vm-launch", string.Join(' ', cgroupProcs), folder.QemuLog,
            "setsid", "--fork",
            .. AsUser(user),
            qemuSystem, .. arguments,
        ];
        var launched = await CommandRunner.RunAsync("/bin/sh", command, TimeSpan.FromSeconds(30), cancellationToken);
        if (launched.ExitCode != 0)
        {
            throw new VmDriverException($"Cannot launch QEMU for VM '{folder.Id}' confined (exit {launched.ExitCode}): {launched.StandardError.Trim()}");
        }

        // QEMU writes its pid file early, before it opens the disk; an error before that ends it with a message.
        var started = time.GetTimestamp();
        while (true)
        {
            if (folder.RunningPid() is { } pid)
            {
                return pid;
            }

            var elapsed = time.GetElapsedTime(started);
            var errors = File.ReadAllText(folder.QemuLog).Trim();
            // A few seconds of grace: a busy host may print a warning well before the pid file.
            if ((errors.Length > 0 && elapsed > TimeSpan.FromSeconds(10)) || elapsed > TimeSpan.FromSeconds(60))
            {
                throw new VmDriverException($"QEMU did not start VM '{folder.Id}': {(errors.Length > 0 ? errors : "no pid file within 60 s")}");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(50), time, cancellationToken);
        }
    }
}
