using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Stratus.Platform;
using Stratus.Platform.Hosting;

namespace Stratus.Images.Store;

/// <summary>An image folder with a readable manifest.</summary>
public sealed record StoredImage(string Id, string Folder, ImageManifest Manifest, byte[] ManifestBytes, DateTime ModifiedAtUtc);

public enum ReplicaState
{
    /// <summary>The region's copy is complete and its manifest is the source's.</summary>
    Replicated,

    /// <summary>The region has no copy yet.</summary>
    Pending,

    /// <summary>The region's copy is complete but older than the source; copies are never rewritten (VM disks use them as backing files).</summary>
    Outdated,
}

/// <summary>
/// The image store on disk (a contract with the host agents and the team, see README.md):
/// ROOT/gallery/ID/ (built at set-up), ROOT/regions/REGION/ID/ (what the agents of REGION read), and the
/// service's own ROOT/custom/ID/ (a custom image's validated copy) and ROOT/uploads/ (uploads being validated).
/// An image folder appears in a region by one rename of a complete copy, and is never rewritten.
/// </summary>
public sealed partial class ImageStore
{
    private const uint Qcow2Magic = 0x514649fb; // "QFI\xfb"
    private const string PartialMarker = ".partial-";
    private const string DeletingMarker = ".deleting-";
    private readonly ConcurrentDictionary<string, SemaphoreSlim> locks = new(StringComparer.Ordinal);
    private readonly ILogger<ImageStore> logger;

    public ImageStore(IOptions<ImagesOptions> options, StratusHostSettings settings, IConfiguration configuration, ILogger<ImageStore> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(configuration);
        this.logger = logger;
        Root = Path.GetFullPath(string.IsNullOrWhiteSpace(options.Value.Root) ? Path.Combine(settings.DataFolder, "images") : options.Value.Root);

        // Compute's regions, read from its configuration section (never its types: modules depend only on the
        // platform) with compute's defaults, the two local regions of all-in-one.
        var configured = configuration.GetSection("Stratus:Compute:Regions").GetChildren().Select(r => r["Name"]).OfType<string>().ToList();
        Regions = configured.Count > 0 ? configured : ["local-1", "local-2"];
        var invalid = Regions.Where(r => !IsImageId(r)).ToList();
        if (invalid.Count > 0)
        {
            throw new ConfigurationException($"Stratus:Compute:Regions: '{string.Join("', '", invalid)}' cannot name a folder of the image store; use letters, digits, '.', '_' and '-'.");
        }
    }

    public string Root { get; }

    public IReadOnlyList<string> Regions { get; }

    public string GalleryFolder => Path.Combine(Root, "gallery");

    public string CustomFolder => Path.Combine(Root, "custom");

    public string UploadsFolder => Path.Combine(Root, "uploads");

    public string RegionFolder(string region) => Path.Combine(Root, "regions", region);

    public string RegionImageFolder(string region, string imageId) => Path.Combine(RegionFolder(region), imageId);

    public string CustomImageFolder(string imageId) => Path.Combine(CustomFolder, imageId);

    public string UploadPath(string uploadFile) => Path.Combine(UploadsFolder, Path.GetFileName(uploadFile));

    /// <summary>A folder beside <paramref name="parent"/>/ID to build ID in, hidden and renamed into place when complete.</summary>
    public static string StagingFolder(string parent, string imageId) => Path.Combine(parent, $".{imageId}{PartialMarker}{Guid.NewGuid():N}");

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")]
    private static partial Regex ImageIdPattern();

    public static bool IsImageId(string name) => ImageIdPattern().IsMatch(name) && !name.Contains("..", StringComparison.Ordinal);

    public void EnsureFolders()
    {
        Directory.CreateDirectory(GalleryFolder);
        Directory.CreateDirectory(CustomFolder);
        Directory.CreateDirectory(UploadsFolder);
        foreach (var region in Regions)
        {
            Directory.CreateDirectory(RegionFolder(region));
        }
    }

    /// <summary>Serializes work on one image's files in this process: import, replication, removal.</summary>
    public async Task<Releaser> LockAsync(string imageId, CancellationToken cancellationToken)
    {
        var gate = locks.GetOrAdd(imageId, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken);
        return new Releaser(gate);
    }

    public bool TryLock(string imageId, out Releaser releaser)
    {
        var gate = locks.GetOrAdd(imageId, _ => new SemaphoreSlim(1, 1));
        releaser = gate.Wait(TimeSpan.Zero) ? new Releaser(gate) : default;
        return releaser.Held;
    }

    public readonly struct Releaser(SemaphoreSlim gate) : IDisposable
    {
        public bool Held => gate is not null;

        public void Dispose() => gate?.Release();
    }

    /// <summary>The gallery: every folder of gallery/ with a complete manifest (a name and a disk that exists).</summary>
    public IReadOnlyList<StoredImage> ListGallery()
    {
        if (!Directory.Exists(GalleryFolder))
        {
            return [];
        }

        return Directory.EnumerateDirectories(GalleryFolder)
            .Where(folder => IsImageId(Path.GetFileName(folder)))
            .Order(StringComparer.Ordinal)
            .Select(ReadImage)
            .OfType<StoredImage>()
            .ToList();
    }

    /// <summary>The image in a folder, or null when it is not one (yet): no manifest, an unreadable one, or no disk.</summary>
    public StoredImage? ReadImage(string folder)
    {
        var path = Path.Combine(folder, ImageManifest.FileName);
        try
        {
            var bytes = File.ReadAllBytes(path);
            var manifest = JsonSerializer.Deserialize<ImageManifest>(bytes, ImageManifest.Json);
            if (manifest?.Name is null || manifest.Disk is null || !File.Exists(Path.Combine(folder, manifest.Disk)))
            {
                LogNotAnImage(logger, folder, "its manifest lacks a name or a disk that exists");
                return null;
            }

            return new StoredImage(Path.GetFileName(folder), folder, manifest, bytes, File.GetLastWriteTimeUtc(path));
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
        catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException)
        {
            LogNotAnImage(logger, folder, e.Message);
            return null;
        }
    }

    /// <summary>The virtual size of a disk: from the qcow2 header (no qemu-img needed to list), else the raw file's length.</summary>
    public static long VirtualSize(string disk)
    {
        try
        {
            using var stream = File.OpenRead(disk);
            Span<byte> header = stackalloc byte[32];
            if (stream.ReadAtLeast(header, header.Length, throwOnEndOfStream: false) == header.Length
                && BinaryPrimitives.ReadUInt32BigEndian(header) == Qcow2Magic)
            {
                return (long)BinaryPrimitives.ReadUInt64BigEndian(header[24..]);
            }

            return stream.Length;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return 0;
        }
    }

    public ReplicaState StateIn(string region, StoredImage source)
    {
        ArgumentNullException.ThrowIfNull(source);
        var manifest = Path.Combine(RegionImageFolder(region, source.Id), ImageManifest.FileName);
        try
        {
            return File.ReadAllBytes(manifest).AsSpan().SequenceEqual(source.ManifestBytes) ? ReplicaState.Replicated : ReplicaState.Outdated;
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return ReplicaState.Pending;
        }
    }

    /// <summary>
    /// Copies an image into a region's store unless the region has it: into a hidden folder beside the target,
    /// checked against the manifest's sha256s, then renamed into place. Idempotent; an existing copy is kept.
    /// </summary>
    /// <returns>True when this call made the copy.</returns>
    public async Task<bool> ReplicateAsync(StoredImage source, string region, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(source);
        var target = RegionImageFolder(region, source.Id);
        if (Directory.Exists(target))
        {
            return false;
        }

        Directory.CreateDirectory(RegionFolder(region));
        var staging = StagingFolder(RegionFolder(region), source.Id);
        Directory.CreateDirectory(staging);
        try
        {
            await CopyFolderAsync(source.Folder, staging, "", source.Manifest.Files ?? [], cancellationToken);

            // The manifest last, and the bytes that were checked: a folder with a manifest is a complete image.
            await File.WriteAllBytesAsync(Path.Combine(staging, ImageManifest.FileName), source.ManifestBytes, cancellationToken);
            try
            {
                Directory.Move(staging, target);
            }
            catch (IOException) when (Directory.Exists(target))
            {
                // Another replication finished first; its copy is as good, and it is the one VMs may already use.
                Directory.Delete(staging, recursive: true);
                return false;
            }
        }
        catch
        {
            DeleteQuietly(staging);
            throw;
        }

        LogReplicated(logger, source.Id, region);
        return true;
    }

    private static async Task CopyFolderAsync(string from, string to, string relative, Dictionary<string, ManifestFile> expected, CancellationToken cancellationToken)
    {
        // Hidden entries are not image content (the builder's .cache of downloaded packages, for one).
        foreach (var file in Directory.EnumerateFiles(from))
        {
            var name = Path.GetFileName(file);
            var key = relative + name;
            if (name.StartsWith('.') || key == ImageManifest.FileName)
            {
                continue;
            }

            var (sha256, size) = await CopyFileAsync(file, Path.Combine(to, name), cancellationToken);
            if (expected.TryGetValue(key, out var entry)
                && (entry.Size != size || !string.Equals(entry.Sha256, sha256, StringComparison.OrdinalIgnoreCase)))
            {
                throw new InvalidDataException($"{file} does not match its manifest (sha256 or size): it changed while it was copied, or the image is damaged.");
            }
        }

        foreach (var folder in Directory.EnumerateDirectories(from))
        {
            var name = Path.GetFileName(folder);
            if (!name.StartsWith('.'))
            {
                Directory.CreateDirectory(Path.Combine(to, name));
                await CopyFolderAsync(folder, Path.Combine(to, name), relative + name + "/", expected, cancellationToken);
            }
        }
    }

    /// <summary>Copies a file and hashes it in the same pass.</summary>
    public static async Task<(string Sha256, long Size)> CopyFileAsync(string from, string to, CancellationToken cancellationToken)
    {
        await using var input = new FileStream(from, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous | FileOptions.SequentialScan);
        await using var output = new FileStream(to, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[1 << 20];
        long size = 0;
        int read;
        while ((read = await input.ReadAsync(buffer, cancellationToken)) > 0)
        {
            hash.AppendData(buffer, 0, read);
            await output.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
            size += read;
        }

        await output.FlushAsync(cancellationToken);
        return (Convert.ToHexStringLower(hash.GetHashAndReset()), size);
    }

    public static async Task<(string Sha256, long Size)> HashFileAsync(string path, CancellationToken cancellationToken)
    {
        await using var input = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous | FileOptions.SequentialScan);
        return (Convert.ToHexStringLower(await SHA256.HashDataAsync(input, cancellationToken)), input.Length);
    }

    /// <summary>Removes an image's folders from the custom store and every region, and any half-made copy of it.</summary>
    public void RemoveEverywhere(string imageId)
    {
        foreach (var parent in Regions.Select(RegionFolder).Prepend(CustomFolder))
        {
            RemoveFolder(Path.Combine(parent, imageId));
            if (Directory.Exists(parent))
            {
                foreach (var partial in Directory.EnumerateDirectories(parent, $".{imageId}{PartialMarker}*"))
                {
                    DeleteQuietly(partial);
                }
            }
        }
    }

    /// <summary>Renamed aside first, so that a removal cut short never leaves something that looks like a complete image.</summary>
    private static void RemoveFolder(string folder)
    {
        if (!Directory.Exists(folder))
        {
            return;
        }

        var doomed = Path.Combine(Path.GetDirectoryName(folder)!, $".{Path.GetFileName(folder)}{DeletingMarker}{Guid.NewGuid():N}");
        Directory.Move(folder, doomed);
        Directory.Delete(doomed, recursive: true);
    }

    /// <summary>
    /// Removes what crashed work left: hidden staging or removal folders and uploads nobody refers to, once
    /// nothing has written to them for <paramref name="age"/> (a copy or an upload in progress keeps writing).
    /// </summary>
    public void RemoveLeftovers(TimeSpan age, IReadOnlySet<string> liveUploads, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(liveUploads);
        var cutoff = now.UtcDateTime - age;
        foreach (var parent in Regions.Select(RegionFolder).Prepend(CustomFolder).Where(Directory.Exists))
        {
            foreach (var folder in Directory.EnumerateDirectories(parent, ".*"))
            {
                var name = Path.GetFileName(folder);
                if ((name.Contains(PartialMarker, StringComparison.Ordinal) || name.Contains(DeletingMarker, StringComparison.Ordinal))
                    && LastWrite(folder) < cutoff)
                {
                    DeleteQuietly(folder);
                    LogRemovedLeftover(logger, folder);
                }
            }
        }

        if (Directory.Exists(UploadsFolder))
        {
            foreach (var file in Directory.EnumerateFiles(UploadsFolder))
            {
                if (!liveUploads.Contains(Path.GetFileName(file)) && File.GetLastWriteTimeUtc(file) < cutoff)
                {
                    File.Delete(file);
                    LogRemovedLeftover(logger, file);
                }
            }
        }
    }

    private static DateTime LastWrite(string folder) =>
        Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).Select(File.GetLastWriteTimeUtc)
            .Append(Directory.GetLastWriteTimeUtc(folder)).Max();

    private static void DeleteQuietly(string folder)
    {
        try
        {
            Directory.Delete(folder, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
            // Already gone.
        }
    }

    [LoggerMessage(EventId = 7001, Level = LogLevel.Information, Message = "Replicated image {ImageId} into region {Region}")]
    private static partial void LogReplicated(ILogger logger, string imageId, string region);

    [LoggerMessage(EventId = 7002, Level = LogLevel.Warning, Message = "{Folder} is not an image: {Reason}")]
    private static partial void LogNotAnImage(ILogger logger, string folder, string reason);

    [LoggerMessage(EventId = 7003, Level = LogLevel.Information, Message = "Removed {Path}, left by interrupted work")]
    private static partial void LogRemovedLeftover(ILogger logger, string path);
}
