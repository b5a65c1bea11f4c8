using System.Text.RegularExpressions;

namespace Stratus.HostAgent.Copies;

/// <summary>
/// A copy store in a folder (file:///PATH), meant for a mount the region's hosts share (NFS, CephFS, GlusterFS).
/// <para>
/// An object KEY = DIR/NAME is two entries in DIR: the content in <c>.NAME.SHA256</c> (named by its own checksum) and
/// NAME, a symbolic link to it. A put writes the content aside, syncs it, renames it to its checksum name, then renames
/// a new link over NAME and syncs the folder: the link's rename is the one atomic step, so a reader sees the old
/// object or the whole new one, and always the checksum that belongs to the content it reads (a checksum file beside
/// the content could not be swapped in the same step). Names starting with '.' are never keys (<see cref="CopyStoreKeys"/>).
/// </para>
/// </summary>
public sealed partial class FileSystemCopyStore : ICopyStore
{
    /// <summary>A temporary or unlinked content file this old was left by a put that died; the next put of its key removes it.</summary>
    private static readonly TimeSpan AbandonedAfter = TimeSpan.FromHours(1);

    private readonly TimeProvider _time;

    public FileSystemCopyStore(string rootPath, TimeProvider? time = null)
    {
        if (!Path.IsPathFullyQualified(rootPath))
        {
            throw new ArgumentException($"A file copy store's folder must be an absolute path, not '{rootPath}'.", nameof(rootPath));
        }

        RootPath = Path.TrimEndingDirectorySeparator(Path.GetFullPath(rootPath));
        _time = time ?? TimeProvider.System;
        Uri = new Uri(RootPath).AbsoluteUri;
    }

    public string Uri { get; }

    public string RootPath { get; }

    public async Task<CopyObject> PutFileAsync(string key, string sourcePath, CancellationToken cancellationToken = default)
    {
        CopyStoreKeys.Validate(key);
        await using var source = HashingCopy.OpenRead(sourcePath);
        return await PutAsync(key, source, cancellationToken);
    }

    public async Task<CopyObject> PutBytesAsync(string key, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default)
    {
        CopyStoreKeys.Validate(key);
        await using var source = new MemoryStream(content.ToArray(), writable: false);
        return await PutAsync(key, source, cancellationToken);
    }

    public Task<CopyObject> GetFileAsync(string key, string destinationPath, CancellationToken cancellationToken = default)
    {
        CopyStoreKeys.Validate(key);
        return HashingCopy.ReadToFileAsync(key, destinationPath, output => ReadAsync(key, output, cancellationToken));
    }

    public Task<byte[]?> GetBytesAsync(string key, CancellationToken cancellationToken = default)
    {
        CopyStoreKeys.Validate(key);
        return HashingCopy.ReadToBytesAsync(output => ReadAsync(key, output, cancellationToken));
    }

    public Task<IReadOnlyList<CopyObject>> ListAsync(string prefix, CancellationToken cancellationToken = default)
    {
        CopyStoreKeys.ValidatePrefix(prefix);
        var lastSlash = prefix.LastIndexOf('/');
        var start = lastSlash < 0 ? RootPath : Path.Combine(RootPath, prefix[..lastSlash]);
        var found = new List<CopyObject>();
        if (Directory.Exists(start))
        {
            var options = new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0, IgnoreInaccessible = false };
            foreach (var path in Directory.EnumerateFiles(start, "*", options))
            {
                cancellationToken.ThrowIfCancellationRequested();
                var key = Path.GetRelativePath(RootPath, path).Replace(Path.DirectorySeparatorChar, '/');
                if (key.StartsWith(prefix, StringComparison.Ordinal) && !key.Split('/').Any(segment => segment.StartsWith('.'))
                    && Resolve(path) is { } content && Describe(key, content) is { } copy)
                {
                    found.Add(copy);
                }
            }
        }

        return Task.FromResult<IReadOnlyList<CopyObject>>([.. found.OrderBy(copy => copy.Key, StringComparer.Ordinal)]);
    }

    public Task DeleteAsync(string key, CancellationToken cancellationToken = default)
    {
        CopyStoreKeys.Validate(key);
        var (folder, name) = Locate(key);
        var link = Path.Combine(folder, name);
        var content = Resolve(link);
        if (File.Exists(link) || new FileInfo(link).LinkTarget is not null)
        {
            File.Delete(link);
            DirectorySync.Flush(folder);
        }

        if (content is not null)
        {
            File.Delete(content.Value.Path);
        }

        return Task.CompletedTask;
    }

    public Task<long?> FreeBytesAsync(CancellationToken cancellationToken = default)
    {
        // The folder may not exist before the first put; the file system it will be on is its nearest existing parent's.
        var existing = RootPath;
        while (!Directory.Exists(existing) && Path.GetDirectoryName(existing) is { } parent)
        {
            existing = parent;
        }

        return Task.FromResult<long?>(new DriveInfo(existing).AvailableFreeSpace);
    }

    private async Task<CopyObject> PutAsync(string key, Stream source, CancellationToken cancellationToken)
    {
        var (folder, name) = Locate(key);
        Directory.CreateDirectory(folder);
        var link = Path.Combine(folder, name);
        var previous = Resolve(link);
        RemoveAbandoned(folder, name, previous?.Path);
        var temporary = Path.Combine(folder, $".{name}.{Guid.NewGuid():N}.tmp");
        var temporaryLink = Path.Combine(folder, $".{name}.{Guid.NewGuid():N}.tmp");
        try
        {
            long bytes;
            string sha256;
            await using (var output = HashingCopy.CreateNew(temporary))
            {
                (bytes, sha256) = await HashingCopy.CopyAsync(source, output, cancellationToken);
                output.Flush(flushToDisk: true);
            }

            var contentName = $".{name}.{sha256}";
            File.Move(temporary, Path.Combine(folder, contentName), overwrite: true);
            File.CreateSymbolicLink(temporaryLink, contentName);
            File.Move(temporaryLink, link, overwrite: true);
            DirectorySync.Flush(folder);
            if (previous is not null && Path.GetFileName(previous.Value.Path) != contentName)
            {
                HashingCopy.DeleteQuietly(previous.Value.Path);
            }

            return new CopyObject(key, bytes, sha256, _time.GetUtcNow());
        }
        finally
        {
            HashingCopy.DeleteQuietly(temporary);
            HashingCopy.DeleteQuietly(temporaryLink);
        }
    }

    /// <summary>Copies the object into the stream, checking its checksum; null when there is none.</summary>
    private async Task<CopyObject?> ReadAsync(string key, Stream output, CancellationToken cancellationToken)
    {
        var (folder, name) = Locate(key);
        var link = Path.Combine(folder, name);

        // A put that replaced the object between resolving the link and opening its content removed that content:
        // resolving again finds the new one.
        for (var attempt = 1; ; attempt++)
        {
            if (Resolve(link) is not { } content)
            {
                if (File.Exists(link))
                {
                    // A plain file where the link should be: written behind the store's back, no checksum to trust.
                    throw new CopyStoreCorruptException(key, "(none)", "(not written by the store)");
                }

                return null;
            }

            FileStream input;
            try
            {
                input = HashingCopy.OpenRead(content.Path);
            }
            catch (FileNotFoundException) when (attempt < 3)
            {
                output.SetLength(0);
                continue;
            }

            await using (input)
            {
                var storedAt = new DateTimeOffset(File.GetLastWriteTimeUtc(content.Path), TimeSpan.Zero);
                var (bytes, actual) = await HashingCopy.CopyAsync(input, output, cancellationToken);
                if (actual != content.Sha256)
                {
                    throw new CopyStoreCorruptException(key, content.Sha256, actual);
                }

                return new CopyObject(key, bytes, actual, storedAt);
            }
        }
    }

    private static CopyObject? Describe(string key, (string Path, string Sha256) content)
    {
        var info = new FileInfo(content.Path);
        return info.Exists ? new CopyObject(key, info.Length, content.Sha256, new DateTimeOffset(info.LastWriteTimeUtc, TimeSpan.Zero)) : null;
    }

    /// <summary>The content file a key's link points to, and the checksum its name carries; null without a link of ours.</summary>
    private static (string Path, string Sha256)? Resolve(string link)
    {
        var target = new FileInfo(link).LinkTarget;
        if (target is null || Path.GetDirectoryName(target) is { Length: > 0 })
        {
            return null;
        }

        var match = ContentName().Match(target);
        return match.Success && target == $".{Path.GetFileName(link)}.{match.Groups["sha"].Value}"
            ? (Path.Combine(Path.GetDirectoryName(link)!, target), match.Groups["sha"].Value)
            : null;
    }

    private void RemoveAbandoned(string folder, string name, string? current)
    {
        var ownNames = new Regex($"^\\.{Regex.Escape(name)}\\.([0-9a-f]{{64}}|[0-9a-f]{{32}}\\.tmp)$");
        var before = _time.GetUtcNow() - AbandonedAfter;
        foreach (var path in Directory.EnumerateFiles(folder, $".{name}.*"))
        {
            if (path != current && ownNames.IsMatch(Path.GetFileName(path)) && File.GetLastWriteTimeUtc(path) < before.UtcDateTime)
            {
                HashingCopy.DeleteQuietly(path);
            }
        }
    }

    private (string Folder, string Name) Locate(string key)
    {
        var path = Path.GetFullPath(Path.Combine(RootPath, key));

        // CopyStoreKeys already refuses every key that could leave the folder; this is the belt to those braces.
        if (!path.StartsWith(RootPath + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            throw new ArgumentException($"The copy store key '{key}' resolves outside the store's folder.", nameof(key));
        }

        return (Path.GetDirectoryName(path)!, Path.GetFileName(path));
    }

    [GeneratedRegex("^\\..+\\.(?<sha>[0-9a-f]{64})$")]
    private static partial Regex ContentName();
}
