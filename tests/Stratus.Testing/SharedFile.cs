namespace Stratus.Testing;

/// <summary>Reads a file another process still writes (a log, a VM's serial output) without locking it.</summary>
public static class SharedFile
{
    public static string ReadAll(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
