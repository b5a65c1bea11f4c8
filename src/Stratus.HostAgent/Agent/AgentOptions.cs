namespace Stratus.HostAgent.Agent;

/// <summary>How one host agent runs: where its control plane is, who it is, and what it offers.</summary>
public sealed record AgentOptions
{
    private readonly string? exportsFolder;

    public required Uri ControlPlane { get; init; }

    /// <summary>
    /// The control plane's certificate (or its CA), given at enrollment and kept in agent.json; with it the agent
    /// talks only to a server that shows it. Null: plain HTTP, or HTTPS trusted by the machine's store.
    /// </summary>
    public ControlPlanePin? ControlPlanePin { get; init; }

    /// <summary>Needed on the first start only; afterwards the agent's identity is in its data folder.</summary>
    public string? EnrollmentToken { get; init; }

    public string? Region { get; init; }

    public required string Zone { get; init; }

    public required string Name { get; init; }

    public required string DataFolder { get; init; }

    /// <summary>Where image folders live, one per image id (DIR/ID/manifest.json).</summary>
    public required string ImagesFolder { get; init; }

    /// <summary>The only folder snapshot exports are written to (default DATA/exports); an export asked for elsewhere is refused.</summary>
    public string ExportsFolder
    {
        get => exportsFolder ?? Path.Combine(DataFolder, "exports");
        init => exportsFolder = value;
    }

    public int VCpus { get; init; } = Environment.ProcessorCount;

    public int MemoryMiB { get; init; } = 4096;

    public int DiskGiB { get; init; } = 100;

    /// <summary>Reports at least this often, also while a slow boot converges.</summary>
    public TimeSpan HeartbeatInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>VMs converged at the same time.</summary>
    public int Parallelism { get; init; } = 4;

    /// <summary>How often the disk copy scheduler looks for a copy that is due (DiskCopyScheduler).</summary>
    public TimeSpan CopyCheckInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Credentials for s3:// copy stores (Stratus:CopyStores); null: the AWS environment variables.</summary>
    public Copies.CopyStoreOptions? CopyStores { get; init; }
}
