namespace Stratus.Testing;

/// <summary>A temporary folder that is deleted with everything in it.</summary>
public sealed class TempFolder : IDisposable
{
    public TempFolder()
    {
        Path = Directory.CreateTempSubdirectory("stratus-test-").FullName;
        if (!OperatingSystem.IsWindows())
        {
            // Passable (never listable) by others: confined QEMU runs as the stratus-vm user and must reach the
            // VM folders and images that tests keep in here.
            File.SetUnixFileMode(Path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.OtherExecute);
        }
    }

    public string Path { get; }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
            // Already gone.
        }
    }
}
