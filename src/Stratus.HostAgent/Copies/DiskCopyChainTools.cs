using System.Globalization;
using Stratus.HostAgent.Drivers.Qemu;

namespace Stratus.HostAgent.Copies;

/// <summary>The qemu-img steps a chain needs: join an increment to the file before it, and flatten a chain into one file.</summary>
public sealed class DiskCopyChainTools(string qemuImg, TimeSpan timeout)
{
    /// <summary>
    /// Makes <paramref name="backing"/> the increment's backing file without touching its data (-u): the increment was
    /// taken as the difference from that very file, so its unwritten clusters must read through to it.
    /// </summary>
    public Task RebaseUnsafeAsync(string increment, string backing, CancellationToken cancellationToken) =>
        CommandRunner.RunCheckedAsync(qemuImg, ["rebase", "-u", "-f", "qcow2", "-F", "qcow2", "-b", backing, increment], timeout, cancellationToken);

    /// <summary>One standalone qcow2 (no backing) of what <paramref name="top"/> reads through its backing chain, written aside then renamed.</summary>
    public async Task ConvertAsync(string top, string destination, CancellationToken cancellationToken)
    {
        var partial = destination + ".partial";
        try
        {
            await CommandRunner.RunCheckedAsync(qemuImg, ["convert", "-f", "qcow2", "-O", "qcow2", top, partial], timeout, cancellationToken);
            File.Move(partial, destination, overwrite: true);
        }
        finally
        {
            File.Delete(partial);
        }
    }

    public Task CreateAsync(string file, long virtualBytes, CancellationToken cancellationToken) =>
        CommandRunner.RunCheckedAsync(qemuImg, ["create", "-q", "-f", "qcow2", file, virtualBytes.ToString(CultureInfo.InvariantCulture)], timeout, cancellationToken);
}
