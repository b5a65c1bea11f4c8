using Stratus.HostAgent.Drivers;
using Stratus.HostAgent.Drivers.Qemu;

namespace Stratus.HostAgent.Confinement;

/// <summary>The unprivileged account QEMU runs as, from /etc/passwd (useradd makes it when it is missing).</summary>
public sealed record GuestUser(string Name, int Uid, int Gid)
{
    public static async Task<GuestUser> EnsureAsync(string name, CancellationToken cancellationToken)
    {
        if (Find(name) is { } existing)
        {
            return existing;
        }

        // A system account with no home, no shell and no password: nothing can log in as it.
        await CommandRunner.RunCheckedAsync("useradd",
            ["--system", "--user-group", "--no-create-home", "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", name],
            TimeSpan.FromSeconds(30), cancellationToken);
        return Find(name) ?? throw new VmDriverException($"useradd made no user '{name}'.");
    }

    private static GuestUser? Find(string name)
    {
        foreach (var line in File.ReadLines("/etc/passwd"))
        {
            var fields = line.Split(':');
            if (fields.Length >= 4 && fields[0] == name)
            {
                return new GuestUser(name, int.Parse(fields[2], System.Globalization.CultureInfo.InvariantCulture),
                    int.Parse(fields[3], System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        return null;
    }

    /// <summary>Hands a VM's folder and the files QEMU writes in it to this user (the agent, root, keeps its access).</summary>
    public async Task OwnAsync(string folder, IEnumerable<string> files, CancellationToken cancellationToken)
    {
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException("QEMU hosts run on Linux.");
        }

        File.SetUnixFileMode(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
            | UnixFileMode.GroupRead | UnixFileMode.GroupExecute);
        await CommandRunner.RunCheckedAsync("chown", [$"{Uid}:{Gid}", folder, .. files.Where(File.Exists)],
            TimeSpan.FromSeconds(30), cancellationToken);
    }

    /// <summary>
    /// Throws unless this user can open <paramref name="file"/> for reading: readable by others, and every folder
    /// above it passable by others. Says which folder stops it.
    /// </summary>
    public void RequireReadable(string file)
    {
        var info = new FileInfo(file);
        if ((info.UnixFileMode & UnixFileMode.OtherRead) == 0)
        {
            throw new VmDriverException($"QEMU runs as {Name} and cannot read {file}: make it readable by others (chmod o+r).");
        }

        RequirePassable(info.DirectoryName!);
    }

    /// <summary>Throws unless this user can reach into <paramref name="path"/>: it and every folder above it passable by others.</summary>
    public void RequirePassable(string path)
    {
        for (var folder = new DirectoryInfo(path); folder is not null; folder = folder.Parent)
        {
            if ((folder.UnixFileMode & UnixFileMode.OtherExecute) == 0)
            {
                throw new VmDriverException(
                    $"QEMU runs as {Name} and cannot pass through {folder.FullName} to {path}: chmod o+x {folder.FullName}, or keep images and data elsewhere.");
            }
        }
    }

    /// <summary>Lets this user pass through (not list) a folder the agent owns, such as its data folder.</summary>
    public static void MakePassable(string folder)
    {
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException("QEMU hosts run on Linux.");
        }

        var info = new DirectoryInfo(folder);
        info.UnixFileMode |= UnixFileMode.OtherExecute;
    }
}
