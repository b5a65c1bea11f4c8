using System.Runtime.InteropServices;

namespace Stratus.HostAgent.Copies;

/// <summary>
/// fsync(2) on a folder, which .NET has no API for: a rename is durable only once its folder is synced, and a copy
/// that a crash of the host (the very case copies exist for) turned back into the old one would be a lie.
/// </summary>
internal static class DirectorySync
{
    private const int ReadOnly = 0;
    private const int Directory = 0x10000; // O_DIRECTORY on Linux

    public static void Flush(string folder)
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        var descriptor = Open(folder, ReadOnly | Directory);
        if (descriptor < 0)
        {
            throw new IOException($"Cannot open the folder '{folder}' to sync it (errno {Marshal.GetLastPInvokeError()}).");
        }

        try
        {
            // EINVAL: a file system that cannot sync folders (some FUSE mounts); their renames are as durable as they get.
            if (Fsync(descriptor) != 0 && Marshal.GetLastPInvokeError() is var errno && errno != 22)
            {
                throw new IOException($"fsync of the folder '{folder}' failed (errno {errno}).");
            }
        }
        finally
        {
            _ = Close(descriptor);
        }
    }

    // DllImport, not LibraryImport: the generated marshalling needs unsafe code, which this project does not allow.
    [DllImport("libc", EntryPoint = "open", SetLastError = true)]
    private static extern int Open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

    [DllImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static extern int Fsync(int descriptor);

    [DllImport("libc", EntryPoint = "close", SetLastError = true)]
    private static extern int Close(int descriptor);
}
