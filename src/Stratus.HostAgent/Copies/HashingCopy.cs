using System.Buffers;
using System.Security.Cryptography;

namespace Stratus.HostAgent.Copies;

/// <summary>Copies a stream while computing its SHA-256, so that a disk of GBs is read once, never twice.</summary>
internal static class HashingCopy
{
    private const int BufferBytes = 1 << 20;

    public static async Task<(long Bytes, string Sha256)> CopyAsync(Stream source, Stream destination, CancellationToken cancellationToken)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = ArrayPool<byte>.Shared.Rent(BufferBytes);
        try
        {
            long bytes = 0;
            int read;
            while ((read = await source.ReadAsync(buffer.AsMemory(0, BufferBytes), cancellationToken)) > 0)
            {
                hash.AppendData(buffer, 0, read);
                await destination.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                bytes += read;
            }

            return (bytes, Convert.ToHexStringLower(hash.GetHashAndReset()));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>The SHA-256 of a whole file (an S3 upload must name it before the first byte leaves).</summary>
    public static async Task<(long Bytes, string Sha256)> HashFileAsync(string path, CancellationToken cancellationToken)
    {
        await using var file = OpenRead(path);
        return await CopyAsync(file, Stream.Null, cancellationToken);
    }

    /// <summary>
    /// An object read by <paramref name="read"/> (which checks its SHA-256; null when there is none) into a file written
    /// aside and renamed over <paramref name="destinationPath"/>, so that a failed or corrupt read leaves no file there.
    /// </summary>
    public static async Task<CopyObject> ReadToFileAsync(string key, string destinationPath, Func<Stream, Task<CopyObject?>> read)
    {
        var temporary = TemporaryBeside(destinationPath);
        try
        {
            CopyObject found;
            await using (var output = CreateNew(temporary))
            {
                found = await read(output) ?? throw new CopyObjectNotFoundException(key);
                output.Flush(flushToDisk: true);
            }

            File.Move(temporary, destinationPath, overwrite: true);
            return found;
        }
        finally
        {
            DeleteQuietly(temporary);
        }
    }

    /// <summary>A small object (a manifest) read by <paramref name="read"/> into memory; null when there is none.</summary>
    public static async Task<byte[]?> ReadToBytesAsync(Func<Stream, Task<CopyObject?>> read)
    {
        using var output = new MemoryStream();
        return await read(output) is null ? null : output.ToArray();
    }

    public static FileStream OpenRead(string path) =>
        new(path, FileMode.Open, FileAccess.Read, FileShare.Read, BufferBytes, FileOptions.Asynchronous | FileOptions.SequentialScan);

    /// <summary>A file written aside and then renamed over the destination: a reader never sees part of it.</summary>
    public static string TemporaryBeside(string destinationPath) =>
        Path.Combine(Path.GetDirectoryName(Path.GetFullPath(destinationPath))!, $".{Path.GetFileName(destinationPath)}.{Guid.NewGuid():N}.partial");

    public static FileStream CreateNew(string path) =>
        new(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, BufferBytes, FileOptions.Asynchronous);

    public static void DeleteQuietly(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // Best effort: a leftover temporary file is cleaned by the next put of the same key.
        }
    }
}
