namespace Stratus.Images.DeviceImages;

public enum ImportJobState
{
    /// <summary>Waiting for a runner.</summary>
    Queued,

    /// <summary>A runner holds its lease; a lease that runs out (the runner died) lets another take it again.</summary>
    Running,

    Succeeded,
    Failed,
}

/// <summary>
/// The import of one upload (validation, conversion, a copy into every region): long work, so it runs as a job
/// with a lease, progress and a deadline rather than inside a queue handler (issue 16 item 6). One per image.
/// </summary>
public sealed class ImportJob
{
    /// <summary>The device image's id.</summary>
    public Guid Id { get; init; }

    public Guid TenantId { get; init; }

    public required string UploadFile { get; init; }

    public ImportJobState State { get; set; }

    public int PercentComplete { get; set; }

    /// <summary>Why the last attempt failed, or why the job did.</summary>
    public string? Error { get; set; }

    /// <summary>Claims so far; also the token a claim is conditional on, so that two runners never both win.</summary>
    public int Attempts { get; set; }

    public string? LeaseOwner { get; set; }

    public DateTimeOffset? LeaseExpiresAt { get; set; }

    /// <summary>When the job fails however far it got (<see cref="ImagesOptions.ImportTimeout"/> after it was queued).</summary>
    public DateTimeOffset Deadline { get; init; }

    public DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset? FinishedAt { get; set; }
}
