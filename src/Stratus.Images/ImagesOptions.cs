using Microsoft.Extensions.Options;

namespace Stratus.Images;

/// <summary>The images service's settings (Stratus:Images).</summary>
public sealed class ImagesOptions
{
    public const long GiB = 1024L * 1024 * 1024;

    /// <summary>The image store; default DATA/images. Host agents read DATA/images/regions/REGION from it.</summary>
    public string? Root { get; set; }

    /// <summary>The largest upload of a custom image's content, in bytes.</summary>
    public long MaxUploadBytes { get; set; } = 20 * GiB;

    /// <summary>The largest virtual disk a custom image may have, in GiB.</summary>
    public int MaxVirtualSizeGiB { get; set; } = 256;

    /// <summary>How often gallery images (and ready custom images) are replicated into every region, besides at start.</summary>
    public TimeSpan ReplicationInterval { get; set; } = TimeSpan.FromMinutes(5);

    public string QemuImg { get; set; } = "qemu-img";

    /// <summary>The limit of `qemu-img info` and `qemu-img check` on an upload.</summary>
    public TimeSpan InspectTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>The limit of the conversion of an upload into the image's qcow2 disk.</summary>
    public TimeSpan ConvertTimeout { get; set; } = TimeSpan.FromHours(2);

    /// <summary>An import job fails when it is not done this long after its upload: checks, conversion and copies, retries included.</summary>
    public TimeSpan ImportTimeout { get; set; } = TimeSpan.FromHours(3);

    /// <summary>How long a runner holds an import job without renewing; a runner that died loses it after this.</summary>
    public TimeSpan ImportLease { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Attempts of an import whose failure is not the image's fault (a full disk, qemu-img missing).</summary>
    public int ImportMaxAttempts { get; set; } = 3;

    /// <summary>How often a runner looks for import jobs besides when this process queued one.</summary>
    public TimeSpan ImportPollInterval { get; set; } = TimeSpan.FromSeconds(5);
}

/// <summary>Reports every mistake in Stratus:Images at start, at once.</summary>
internal sealed class ImagesOptionsValidator : IValidateOptions<ImagesOptions>
{
    public ValidateOptionsResult Validate(string? name, ImagesOptions options)
    {
        var errors = new List<string>();
        if (options.MaxUploadBytes < 1)
        {
            errors.Add("Stratus:Images:MaxUploadBytes must be at least 1.");
        }

        if (options.MaxVirtualSizeGiB < 1)
        {
            errors.Add("Stratus:Images:MaxVirtualSizeGiB must be at least 1.");
        }

        if (options.ReplicationInterval < TimeSpan.FromSeconds(1))
        {
            errors.Add("Stratus:Images:ReplicationInterval must be at least one second.");
        }

        if (options.InspectTimeout <= TimeSpan.Zero || options.ConvertTimeout <= TimeSpan.Zero)
        {
            errors.Add("Stratus:Images:InspectTimeout and ConvertTimeout must be positive.");
        }

        if (options.ImportTimeout <= TimeSpan.Zero || options.ImportLease < TimeSpan.FromSeconds(3) || options.ImportPollInterval <= TimeSpan.Zero)
        {
            errors.Add("Stratus:Images:ImportTimeout and ImportPollInterval must be positive, and ImportLease at least 3 seconds.");
        }

        if (options.ImportMaxAttempts < 1)
        {
            errors.Add("Stratus:Images:ImportMaxAttempts must be at least 1.");
        }

        if (string.IsNullOrWhiteSpace(options.QemuImg))
        {
            errors.Add("Stratus:Images:QemuImg must name the qemu-img program.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
