using Stratus.Images.Store;

namespace Stratus.Images.Replication;

/// <summary>A file of a source folder as seen by one pass.</summary>
public sealed record SourceFile(string Path, long Size, DateTimeOffset ModifiedAt);

/// <summary>The file work of replication: which files a folder holds, a checked copy, a check of a replica.</summary>
internal static class ReplicaFiles
{
    /// <summary>A copy in progress, hidden beside its target (the image store and its readers skip hidden entries).</summary>
    private const string TemporaryMarker = ".replica-";

    /// <summary>
    /// Every file under <paramref name="root"/> to replicate: hidden entries are skipped at every level (copies in
    /// progress, withdrawn or half-removed images, the image builder's cache), and so are the image store's uploads,
    /// which become an image (custom/ID, replicated then) or nothing.
    /// </summary>
    public static List<SourceFile> List(string root, string set)
    {
        var files = new List<SourceFile>();
        Walk(root, "", set == FileReplicationOptions.ImagesSet, files);
        return files;
    }

    private static void Walk(string folder, string relative, bool imageStore, List<SourceFile> files)
    {
        try
        {
            WalkFolder(folder, relative, imageStore, files);
        }
        catch (DirectoryNotFoundException) when (relative.Length > 0)
        {
            // Renamed or removed while listed (an image withdrawn, a copy moved into place): the next pass sees where it went.
        }
    }

    private static void WalkFolder(string folder, string relative, bool imageStore, List<SourceFile> files)
    {
        foreach (var file in Directory.EnumerateFiles(folder))
        {
            var info = new FileInfo(file);
            if (!info.Name.StartsWith('.') && info.Exists)
            {
                files.Add(new SourceFile(relative + info.Name, info.Length, Stamp(info.LastWriteTimeUtc)));
            }
        }

        foreach (var sub in Directory.EnumerateDirectories(folder))
        {
            var name = System.IO.Path.GetFileName(sub);
            if (!name.StartsWith('.') && !(imageStore && relative.Length == 0 && name == "uploads"))
            {
                Walk(sub, relative + name + "/", imageStore, files);
            }
        }
    }

    /// <summary>The image a file of the image store belongs to: gallery/ID/…, custom/ID/…, regions/REGION/ID/….</summary>
    public static string? ImageIdOf(string set, string path)
    {
        if (set != FileReplicationOptions.ImagesSet)
        {
            return null;
        }

        var parts = path.Split('/');
        return parts switch
        {
            ["gallery" or "custom", var id, _, ..] => id,
            ["regions", _, var id, _, ..] => id,
            _ => null,
        };
    }

    /// <summary>
    /// A file's last write to 0.1 ms, what both stores keep of a timestamp (PostgreSQL 1 µs, EF's binary form of
    /// SQLite 0.1 ms), so that a stored one compares equal to the file's and an unchanged file is not copied again.
    /// </summary>
    public static DateTimeOffset Stamp(DateTime utc) => new(utc.Ticks - (utc.Ticks % 1000), TimeSpan.Zero);

    public static string Full(string root, string path) => System.IO.Path.Combine(root, path.Replace('/', System.IO.Path.DirectorySeparatorChar));

    /// <summary>
    /// Copies a source file over its replica: into a hidden file beside the target, hashed while read, read again and
    /// hashed once written (the bytes on the target's disk, not what we meant to write), then renamed into place, so
    /// that a reader sees the old replica or the new one, never a part. Throws when the source changed under the copy.
    /// </summary>
    public static async Task<(string Sha256, long Size, DateTimeOffset ModifiedAt)> CopyAsync(ReplicationRoute route, SourceFile expected, CancellationToken cancellationToken)
    {
        var source = Full(route.SourceRoot, expected.Path);
        var target = Full(route.TargetRoot, expected.Path);
        var folder = System.IO.Path.GetDirectoryName(target)!;
        Directory.CreateDirectory(folder);
        var temporary = System.IO.Path.Combine(folder, $".{System.IO.Path.GetFileName(target)}{TemporaryMarker}{Guid.NewGuid():N}");
        try
        {
            var (sha256, size) = await ImageStore.CopyFileAsync(source, temporary, cancellationToken);
            var after = new FileInfo(source);
            if (!after.Exists || after.Length != size || Stamp(after.LastWriteTimeUtc) != expected.ModifiedAt || size != expected.Size)
            {
                throw new InvalidDataException($"{source} changed while it was copied; the next pass copies it again.");
            }

            var (written, _) = await ImageStore.HashFileAsync(temporary, cancellationToken);
            if (written != sha256)
            {
                throw new InvalidDataException($"The copy of {source} in {route.TargetRegion} reads back with sha256 {written}, not the source's {sha256}: the target store is damaging writes.");
            }

            File.Move(temporary, target, overwrite: true);
            return (sha256, size, expected.ModifiedAt);
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }
    }

    /// <summary>Whether the replica exists with the recorded size (cheap, every pass) and, when asked, the recorded sha256.</summary>
    public static async Task<string?> ProblemWithAsync(ReplicationRoute route, FileReplica replica, bool hash, CancellationToken cancellationToken)
    {
        var target = new FileInfo(Full(route.TargetRoot, replica.Path));
        if (!target.Exists)
        {
            return "the replica is missing";
        }

        if (target.Length != replica.Size)
        {
            return $"the replica has {target.Length} bytes, not {replica.Size}";
        }

        if (!hash)
        {
            return null;
        }

        var (sha256, _) = await ImageStore.HashFileAsync(target.FullName, cancellationToken);
        return sha256 == replica.Sha256 ? null : $"the replica's sha256 is {sha256}, not {replica.Sha256}";
    }

    /// <summary>Removes a replica and then the folders it leaves empty, up to the set's root.</summary>
    public static void Remove(ReplicationRoute route, string path)
    {
        var target = Full(route.TargetRoot, path);
        File.Delete(target);
        var root = System.IO.Path.GetFullPath(route.TargetRoot);
        for (var folder = System.IO.Path.GetDirectoryName(target); folder is not null && folder.Length > root.Length && folder.StartsWith(root, StringComparison.Ordinal);
             folder = System.IO.Path.GetDirectoryName(folder))
        {
            if (!Directory.Exists(folder) || Directory.EnumerateFileSystemEntries(folder).Any())
            {
                break;
            }

            Directory.Delete(folder);
        }
    }
}
