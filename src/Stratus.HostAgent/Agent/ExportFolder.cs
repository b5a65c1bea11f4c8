using Stratus.HostAgent.Drivers;

namespace Stratus.HostAgent.Agent;

/// <summary>
/// The only folder a host writes snapshot exports to, whatever the control plane asks: a file is resolved in it,
/// and one that leaves it (an absolute path elsewhere, "..") is refused, so that no caller of the control plane,
/// nor a control plane that is not what it should be, can have the agent write anywhere else.
/// </summary>
internal static class ExportFolder
{
    /// <summary>The snapshot and the file of an ExportSnapshot operation's argument, snapshot:FILE.</summary>
    public static (string Snapshot, string Destination) Target(string folder, string argument)
    {
        var separator = argument.IndexOf(':', StringComparison.Ordinal);
        return separator <= 0
            ? throw new VmDriverException("ExportSnapshot needs 'snapshot:file', the file relative to the host's export folder.")
            : (argument[..separator], Resolve(folder, argument[(separator + 1)..]));
    }

    public static string Resolve(string folder, string asked)
    {
        var root = Path.GetFullPath(folder);
        var destination = Path.GetFullPath(Path.Combine(root, asked));
        return destination.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal) && destination.EndsWith(".qcow2", StringComparison.Ordinal)
            ? destination
            : throw new VmDriverException($"Refused to export to '{asked}': exports are written only as .qcow2 files under this host's export folder {root}.");
    }
}
