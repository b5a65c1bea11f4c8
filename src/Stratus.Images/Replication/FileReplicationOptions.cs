using Microsoft.Extensions.Options;
using Stratus.Images.Store;

namespace Stratus.Images.Replication;

/// <summary>
/// Stratus:Images:FileReplication: the file stores of each region (a folder per file set, on a mount that the
/// region's instances share) and how this region's files reach the other regions' stores. With no stores configured
/// (a single region, `stratus up`) nothing is replicated.
/// </summary>
/// <example>
/// Stratus:Images:FileReplication:Region = A (default Stratus:Region:Name)
/// Stratus:Images:FileReplication:Stores:A:images = /mnt/a/images   (A's own: defaults to Stratus:Images:Root)
/// Stratus:Images:FileReplication:Stores:B:images = /mnt/b/images
/// Stratus:Images:FileReplication:Stores:A:exports = /mnt/a/exports, Stores:B:exports = /mnt/b/exports
/// </example>
public sealed class FileReplicationOptions
{
    /// <summary>The file set of the image store; any other set name (exports) is replicated as plain files.</summary>
    public const string ImagesSet = "images";

    /// <summary>This instance's region, whose store is the source; default Stratus:Region:Name.</summary>
    public string? Region { get; set; }

    /// <summary>Region name to (file set name to folder).</summary>
    public Dictionary<string, Dictionary<string, string>> Stores { get; set; } = new(StringComparer.Ordinal);

    /// <summary>The wait between passes: with the copy time, the most a file written in this region may wait for its replica.</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>How often each replica is read whole and its sha256 compared (a missing or resized one is seen every pass).</summary>
    public TimeSpan VerifyInterval { get; set; } = TimeSpan.FromHours(24);

    /// <summary>The first retry of a failed copy; each failure doubles it, up to <see cref="RetryMax"/>.</summary>
    public TimeSpan RetryBase { get; set; } = TimeSpan.FromSeconds(5);

    public TimeSpan RetryMax { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>The limit of one file's copy and check; a copy that takes longer fails and is retried.</summary>
    public TimeSpan CopyTimeout { get; set; } = TimeSpan.FromHours(2);
}

/// <summary>One source folder and the folder it is replicated to, in another region.</summary>
public sealed record ReplicationRoute(string SourceRegion, string TargetRegion, string Set, string SourceRoot, string TargetRoot);

/// <summary>The routes of this region, resolved once from the options and the image store's root.</summary>
public sealed class FileReplicationRoutes
{
    public FileReplicationRoutes(IOptions<FileReplicationOptions> options, ImageStore store)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(store);
        var value = options.Value;
        Region = value.Region;
        if (string.IsNullOrWhiteSpace(Region) || value.Stores.Count == 0)
        {
            Routes = [];
            return;
        }

        var own = value.Stores.TryGetValue(Region, out var configured) ? new Dictionary<string, string>(configured, StringComparer.Ordinal) : new(StringComparer.Ordinal);
        own.TryAdd(FileReplicationOptions.ImagesSet, store.Root);
        Routes = value.Stores.Where(s => s.Key != Region)
            .SelectMany(target => target.Value.Where(set => own.ContainsKey(set.Key))
                .Select(set => new ReplicationRoute(Region, target.Key, set.Key, Path.GetFullPath(own[set.Key]), Path.GetFullPath(set.Value))))
            .OrderBy(r => r.TargetRegion, StringComparer.Ordinal).ThenBy(r => r.Set, StringComparer.Ordinal)
            .ToList();

        // Checked on the resolved folders (this region's image store is the store's root unless configured).
        var nested = Routes.Where(r => Inside(r.TargetRoot, r.SourceRoot) || Inside(r.SourceRoot, r.TargetRoot)).ToList();
        if (nested.Count > 0)
        {
            throw new Platform.ConfigurationException(
                $"Stratus:Images:FileReplication: region {nested[0].TargetRegion}'s {nested[0].Set} folder {nested[0].TargetRoot} and this region's {nested[0].SourceRoot} are the same or one is inside the other; a replica would be copied into itself.");
        }
    }

    private static bool Inside(string folder, string parent) =>
        (folder.TrimEnd('/') + "/").StartsWith(parent.TrimEnd('/') + "/", StringComparison.Ordinal);

    public string? Region { get; }

    public IReadOnlyList<ReplicationRoute> Routes { get; }

    public bool Enabled => Routes.Count > 0;
}

/// <summary>Reports every mistake in Stratus:Images:FileReplication at start, at once.</summary>
internal sealed class FileReplicationOptionsValidator : IValidateOptions<FileReplicationOptions>
{
    public ValidateOptionsResult Validate(string? name, FileReplicationOptions options)
    {
        var errors = new List<string>();
        if (options.Stores.Count > 0 && string.IsNullOrWhiteSpace(options.Region))
        {
            errors.Add("Stratus:Images:FileReplication:Stores is set but this instance's region is not: set Stratus:Region:Name (or Stratus:Images:FileReplication:Region).");
        }

        foreach (var (region, sets) in options.Stores)
        {
            if (!ImageStore.IsImageId(region))
            {
                errors.Add($"Stratus:Images:FileReplication:Stores: '{region}' is not a region name; use letters, digits, '.', '_' and '-'.");
            }

            foreach (var (set, folder) in sets)
            {
                if (!ImageStore.IsImageId(set) || string.IsNullOrWhiteSpace(folder) || !Path.IsPathFullyQualified(folder))
                {
                    errors.Add($"Stratus:Images:FileReplication:Stores:{region}:{set} must name a file set (letters, digits, '.', '_', '-') and an absolute folder.");
                }
            }
        }

        var roots = options.Stores.SelectMany(s => s.Value.Values).Where(Path.IsPathFullyQualified).Select(f => Path.GetFullPath(f).TrimEnd('/') + "/").ToList();
        if (roots.Any(a => roots.Count(b => b.StartsWith(a, StringComparison.Ordinal)) > 1))
        {
            errors.Add("Stratus:Images:FileReplication:Stores: no two folders may be the same or one inside another (a replica would be copied into itself).");
        }

        if (options.Interval < TimeSpan.FromSeconds(1) || options.VerifyInterval < TimeSpan.FromSeconds(1) || options.CopyTimeout <= TimeSpan.Zero)
        {
            errors.Add("Stratus:Images:FileReplication:Interval and VerifyInterval must be at least one second, CopyTimeout positive.");
        }

        if (options.RetryBase <= TimeSpan.Zero || options.RetryMax < options.RetryBase)
        {
            errors.Add("Stratus:Images:FileReplication:RetryBase must be positive and RetryMax at least RetryBase.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
