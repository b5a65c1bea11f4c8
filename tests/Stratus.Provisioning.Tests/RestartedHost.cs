using Microsoft.EntityFrameworkCore;
using Stratus.Platform.Messaging;
using Stratus.Provisioning.Tests.Support;

namespace Stratus.Provisioning.Tests;

/// <summary>
/// A `stratus up` that tests stop and start again, some services only in between, to leave messages waiting in a
/// queue as a deployment whose consumer is away would. Hosts are declared down only after 10 minutes (the
/// embedded ones are away between the processes), and the reconciliation runs every 2 s.
/// </summary>
public sealed class RestartedHost : ProvisioningHost
{
    /// <summary>The classes that restart it share one process, one test at a time.</summary>
    public const string Collection = "restarted stratus";

    /// <summary>Every service but compute.</summary>
    public static readonly string[] WithoutCompute = ["run", "--targets", "identity,provisioning,images,diagnostics"];

    /// <summary>Every service but provisioning (a deployment where identity runs alone sees no Cloud PCs).</summary>
    public static readonly string[] WithoutProvisioning = ["run", "--targets", "identity,diagnostics,compute,images"];

    protected override IReadOnlyDictionary<string, string?> ExtraSettings { get; } = new Dictionary<string, string?>
    {
        ["Stratus__Compute__HeartbeatTimeout"] = "00:10:00",
        ["Stratus__Provisioning__ReconcileInterval"] = "00:00:02",
    };

    /// <summary>The messages of a type waiting (not yet handled) in a queue.</summary>
    public async Task<List<QueueMessage>> WaitingAsync(string queue, string messageType)
    {
        await using var platform = OpenPlatformStore();
        return await platform.QueueMessages.AsNoTracking()
            .Where(m => m.Queue == queue && m.MessageType == messageType && m.Status == QueueMessageStatus.Pending).ToListAsync();
    }
}

[CollectionDefinition(RestartedHost.Collection)]
public sealed class RestartedHostCollection : ICollectionFixture<RestartedHost>;
