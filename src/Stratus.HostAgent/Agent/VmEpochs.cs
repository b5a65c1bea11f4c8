using System.Globalization;

namespace Stratus.HostAgent.Agent;

/// <summary>
/// Fencing (issue 18): per VM, the epoch its disk on this host was made for, one small file each in DATA/epochs.
/// Compute raises a VM's epoch each time it makes the VM again on another host (host loss); a disk recorded with a
/// lower epoch than the desired one is stale (the VM lives elsewhere now) and is never started. The file is written
/// before the disk is created, so a crash between the two leaves a record and no disk, never a disk without one.
/// A disk with no file was made before epochs existed: epoch 0.
/// </summary>
internal sealed class VmEpochs(string dataFolder)
{
    private readonly string folder = Path.Combine(dataFolder, "epochs");

    public long Recorded(string driverVmId)
    {
        var path = PathOf(driverVmId);
        return File.Exists(path) && long.TryParse(File.ReadAllText(path).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var epoch) ? epoch : 0;
    }

    public async Task RecordAsync(string driverVmId, long epoch, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(folder);
        var path = PathOf(driverVmId);
        var aside = path + ".tmp";
        await File.WriteAllTextAsync(aside, epoch.ToString(CultureInfo.InvariantCulture), cancellationToken);
        File.Move(aside, path, overwrite: true);
    }

    /// <summary>The record goes with the disk: a VM made again later under the same id starts from its desired epoch.</summary>
    public void Forget(string driverVmId) => File.Delete(PathOf(driverVmId));

    private string PathOf(string driverVmId) => Path.Combine(folder, driverVmId);
}
