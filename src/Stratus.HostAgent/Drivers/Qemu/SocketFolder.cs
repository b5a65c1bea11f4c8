using System.Security.Cryptography;
using System.Text;

namespace Stratus.HostAgent.Drivers.Qemu;

/// <summary>
/// Unix socket paths are limited to 108 bytes, and QEMU's sockets live under the driver's data folder. A
/// folder whose path is too long is reached through a short symbolic link in a private runtime folder, so
/// that any data folder works.
/// </summary>
public static class SocketFolder
{
    public static string Shorten(string folder)
    {
        var full = Path.GetFullPath(folder).TrimEnd('/');
        if (full.Length <= QemuDriverOptions.MaxDataDirectoryLength && !full.Contains(',', StringComparison.Ordinal))
        {
            return full;
        }

        var runtime = PrivateRuntimeFolder();
        var link = Path.Combine(runtime, Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(full)))[..12]);
        var existing = new FileInfo(link);
        if (existing.LinkTarget is { } target && target == full)
        {
            return link;
        }

        if (existing.Exists || existing.LinkTarget is not null)
        {
            existing.Delete();
        }

        File.CreateSymbolicLink(link, full);
        return link;
    }

    /// <summary>
    /// $XDG_RUNTIME_DIR when the session has one, else /tmp/stratus-UID created 0700: another local user must
    /// not be able to plant a link there that captures the VMs' sockets.
    /// </summary>
    private static string PrivateRuntimeFolder()
    {
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException("QEMU hosts run on Linux.");
        }

        var xdg = Environment.GetEnvironmentVariable("XDG_RUNTIME_DIR");
        var folder = !string.IsNullOrEmpty(xdg) && Directory.Exists(xdg)
            ? Path.Combine(xdg, "stratus")
            : Path.Combine("/tmp", $"stratus-{Environment.UserName}");
        var info = Directory.CreateDirectory(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        // QEMU runs as the guest user and reaches its sockets through the link: others may pass, never list or write.
        info.UnixFileMode |= UnixFileMode.OtherExecute;
        if (info.LinkTarget is not null || (info.UnixFileMode & (UnixFileMode.GroupWrite | UnixFileMode.OtherWrite)) != 0)
        {
            throw new VmDriverException($"{folder} is a link or writable by others; remove it so that Stratus can create it privately.");
        }

        return folder.Length + 13 <= QemuDriverOptions.MaxDataDirectoryLength
            ? folder
            : throw new VmDriverException($"The runtime folder {folder} is too long for QEMU's socket paths; set XDG_RUNTIME_DIR to a short folder.");
    }
}
