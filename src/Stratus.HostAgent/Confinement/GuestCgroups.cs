using System.Globalization;
using Stratus.HostAgent.Drivers;

namespace Stratus.HostAgent.Confinement;

/// <summary>
/// A cgroup per VM under "stratus", limiting CPU to the plan's vCPUs and memory to the plan's plus QEMU's overhead.
/// cgroup v2 when its cpu and memory controllers are there (cpu.max, memory.max); otherwise the v1 hierarchies
/// that hold them (cpu.cfs_quota_us, memory.limit_in_bytes), as on hosts that still mount cgroup v1.
/// </summary>
internal sealed class GuestCgroups
{
    private const long PeriodMicroseconds = 100_000;
    private readonly string? _unified;
    private readonly string? _cpu;
    private readonly string? _memory;

    private GuestCgroups(string? unified, string? cpu, string? memory)
    {
        _unified = unified;
        _cpu = cpu;
        _memory = memory;
    }

    public string Kind => _unified is not null ? "cgroup v2" : "cgroup v1";

    /// <summary>Finds the controllers and makes the "stratus" parent group(s); idempotent.</summary>
    public static GuestCgroups Ensure(string root = "/sys/fs/cgroup")
    {
        foreach (var unified in new[] { root, Path.Combine(root, "unified") })
        {
            var controllers = Path.Combine(unified, "cgroup.controllers");
            if (File.Exists(controllers) && File.ReadAllText(controllers).Split(' ', '\n') is var names
                && names.Contains("cpu") && names.Contains("memory"))
            {
                var parent = Path.Combine(unified, "stratus");
                EnableControllers(unified);
                Directory.CreateDirectory(parent);
                EnableControllers(parent);
                return new GuestCgroups(parent, null, null);
            }
        }

        var cpu = Path.Combine(root, "cpu");
        var memory = Path.Combine(root, "memory");
        if (File.Exists(Path.Combine(cpu, "cpu.cfs_quota_us")) && File.Exists(Path.Combine(memory, "memory.limit_in_bytes")))
        {
            Directory.CreateDirectory(Path.Combine(cpu, "stratus"));
            Directory.CreateDirectory(Path.Combine(memory, "stratus"));
            return new GuestCgroups(null, Path.Combine(cpu, "stratus"), Path.Combine(memory, "stratus"));
        }

        throw new VmDriverException($"No cgroup with the cpu and memory controllers under {root} (neither cgroup v2 nor v1): cannot limit VMs.");
    }

    /// <summary>Makes (or updates) a VM's group(s), stratus/NAME, and returns the cgroup.procs files its QEMU process must join.</summary>
    public IReadOnlyList<string> Prepare(string name, int vCpus, long memoryBytes)
    {
        var quota = (vCpus * PeriodMicroseconds).ToString(CultureInfo.InvariantCulture);
        var bytes = memoryBytes.ToString(CultureInfo.InvariantCulture);
        if (_unified is not null)
        {
            var group = Directory.CreateDirectory(Path.Combine(_unified, name)).FullName;
            File.WriteAllText(Path.Combine(group, "cpu.max"), $"{quota} {PeriodMicroseconds}");
            File.WriteAllText(Path.Combine(group, "memory.max"), bytes);
            return [Path.Combine(group, "cgroup.procs")];
        }

        var cpu = Directory.CreateDirectory(Path.Combine(_cpu!, name)).FullName;
        File.WriteAllText(Path.Combine(cpu, "cpu.cfs_period_us"), PeriodMicroseconds.ToString(CultureInfo.InvariantCulture));
        File.WriteAllText(Path.Combine(cpu, "cpu.cfs_quota_us"), quota);
        var memory = Directory.CreateDirectory(Path.Combine(_memory!, name)).FullName;
        File.WriteAllText(Path.Combine(memory, "memory.limit_in_bytes"), bytes);
        return [Path.Combine(cpu, "cgroup.procs"), Path.Combine(memory, "cgroup.procs")];
    }

    /// <summary>Removes the VM's group(s) once its process is gone (a group with a process in it stays).</summary>
    public void Remove(string name)
    {
        foreach (var parent in new[] { _unified, _cpu, _memory })
        {
            var group = parent is null ? null : Path.Combine(parent, name);
            if (group is not null && Directory.Exists(group))
            {
                try
                {
                    Directory.Delete(group);
                }
                catch (IOException)
                {
                    // Busy: its process has not ended yet; the next start reuses the group.
                }
            }
        }
    }

    private static void EnableControllers(string group)
    {
        var control = Path.Combine(group, "cgroup.subtree_control");
        var enabled = File.ReadAllText(control).Split(' ', '\n');
        if (!enabled.Contains("cpu") || !enabled.Contains("memory"))
        {
            File.WriteAllText(control, "+cpu +memory");
        }
    }
}
