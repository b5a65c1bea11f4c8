using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Stratus.HostAgent.Drivers.Qemu;

/// <summary>What a QEMU holding the disk can tell of it before a copy: its size, and the state of the store's bitmap.</summary>
internal sealed record DiskBitmapState(long VirtualBytes, bool BitmapUsable);

/// <summary>
/// One copy of a disk by the QEMU that holds it open (the VM's own QEMU, or a qemu-storage-daemon for a stopped VM),
/// over QMP: blockdev-backup into a fresh qcow2 node, sync full with the store's persistent dirty bitmap added in the
/// same transaction (so the bitmap counts exactly the writes after the copy's point in time), or sync incremental from
/// that bitmap, cleared only when the job succeeds. Crash-consistent: the point in time is the job's start.
/// </summary>
internal static class DiskBackup
{
    private const string TargetNode = "stratus-copy-target";
    private const string JobId = "stratus-copy";

    /// <summary>
    /// The disk's size and whether the bitmap can be trusted. A bitmap QEMU could not save (its process killed)
    /// loads as inconsistent, and one left from a copy whose chain is lost means nothing: both are removed here, so
    /// that the full copy that follows makes it anew.
    /// </summary>
    public static async Task<DiskBitmapState> InspectAsync(QmpClient qmp, string node, string bitmap, bool chainMatches,
        CancellationToken cancellationToken)
    {
        var nodes = await qmp.ExecuteAsync("query-named-block-nodes", new JsonObject { ["flat"] = true }, cancellationToken);
        var disk = nodes.EnumerateArray().FirstOrDefault(n => n.GetProperty("node-name").GetString() == node);
        if (disk.ValueKind == JsonValueKind.Undefined)
        {
            throw new VmDriverException($"QEMU has no block node '{node}' to copy.");
        }

        var size = disk.GetProperty("image").GetProperty("virtual-size").GetInt64();
        var found = disk.TryGetProperty("dirty-bitmaps", out var bitmaps)
            ? bitmaps.EnumerateArray().FirstOrDefault(b => b.GetProperty("name").GetString() == bitmap)
            : default;
        if (found.ValueKind == JsonValueKind.Undefined)
        {
            return new DiskBitmapState(size, false);
        }

        var consistent = !(found.TryGetProperty("inconsistent", out var inconsistent) && inconsistent.GetBoolean())
            && found.GetProperty("persistent").GetBoolean()
            && !found.GetProperty("busy").GetBoolean();
        if (consistent && chainMatches)
        {
            return new DiskBitmapState(size, true);
        }

        await qmp.ExecuteAsync("block-dirty-bitmap-remove", new JsonObject { ["node"] = node, ["name"] = bitmap }, cancellationToken);
        return new DiskBitmapState(size, false);
    }

    /// <summary>Copies the disk into <paramref name="target"/> (an empty qcow2 of the disk's size that QEMU can write).</summary>
    public static async Task RunAsync(QmpClient qmp, string node, string bitmap, string target, bool full, TimeSpan timeout,
        TimeProvider time, CancellationToken cancellationToken)
    {
        await qmp.ExecuteAsync("blockdev-add", new JsonObject
        {
            ["driver"] = "qcow2",
            ["node-name"] = TargetNode,
            ["file"] = new JsonObject { ["driver"] = "file", ["filename"] = target },
        }, cancellationToken);
        try
        {
            // auto-dismiss off: the concluded job stays to be asked how it ended.
            var backup = new JsonObject
            {
                ["job-id"] = JobId,
                ["device"] = node,
                ["target"] = TargetNode,
                ["sync"] = full ? "full" : "incremental",
                ["auto-dismiss"] = false,
            };
            if (full)
            {
                await qmp.ExecuteAsync("transaction", new JsonObject
                {
                    ["actions"] = new JsonArray(
                        new JsonObject
                        {
                            ["type"] = "block-dirty-bitmap-add",
                            ["data"] = new JsonObject { ["node"] = node, ["name"] = bitmap, ["persistent"] = true },
                        },
                        new JsonObject { ["type"] = "blockdev-backup", ["data"] = backup }),
                }, cancellationToken);
            }
            else
            {
                backup["bitmap"] = bitmap;
                backup["bitmap-mode"] = "on-success";
                await qmp.ExecuteAsync("blockdev-backup", backup, cancellationToken);
            }

            await WaitForJobAsync(qmp, timeout, time, cancellationToken);
        }
        finally
        {
            try
            {
                await qmp.ExecuteAsync("blockdev-del", new JsonObject { ["node-name"] = TargetNode }, CancellationToken.None);
            }
            catch (QmpException)
            {
                // Still in use by a job that failed to cancel: QEMU drops it with the job.
            }
        }
    }

    private static async Task WaitForJobAsync(QmpClient qmp, TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        while (true)
        {
            var jobs = await qmp.ExecuteAsync("query-jobs", null, cancellationToken);
            var job = jobs.EnumerateArray().FirstOrDefault(j => j.GetProperty("id").GetString() == JobId);
            if (job.ValueKind == JsonValueKind.Undefined)
            {
                throw new VmDriverException("The copy job vanished before it concluded.");
            }

            if (job.GetProperty("status").GetString() == "concluded")
            {
                await qmp.ExecuteAsync("job-dismiss", new JsonObject { ["id"] = JobId }, cancellationToken);
                if (job.TryGetProperty("error", out var error))
                {
                    throw new VmDriverException($"The copy job failed: {error.GetString()}");
                }

                return;
            }

            if (time.GetElapsedTime(started) > timeout)
            {
                await qmp.ExecuteAsync("job-cancel", new JsonObject { ["id"] = JobId, ["force"] = true }, CancellationToken.None);
                throw new TimeoutException($"The copy job did not finish within {timeout.TotalSeconds.ToString("0", CultureInfo.InvariantCulture)} s.");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100), time, cancellationToken);
        }
    }
}
