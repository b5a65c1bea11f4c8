using Stratus.HostAgent.Copies;
using Stratus.HostAgent.Drivers;
using Stratus.HostAgent.Tests.Support;
using Stratus.Testing;

namespace Stratus.HostAgent.Tests.Copies;

/// <summary>
/// The chain of a stopped VM (copied by qemu-storage-daemon, no boot needed) with a small MaxIncrements: compaction
/// keeps it within MaxIncrements+1 files, and the disk made from it holds every write of every copy.
/// </summary>
public sealed class DiskCopyChainTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Compaction_KeepsTheChainShort_AndTheRestoreHasEveryWrite()
    {
        using var storeFolder = new TempFolder();
        var store = CopyStores.Open("file://" + storeFolder.Path);
        await using var host = new VmHost(output, options => options with { DiskCopyMaxIncrements = 2 });
        var spec = await VmHost.SpecAsync("chain", diskGiB: 8);
        await host.Driver.CreateAsync(spec);
        var disk = Path.Combine(host.DataPath, "vms", "chain", "disk.qcow2");

        // Six copies, each after a 1 MiB write of its own pattern at its own offset (beyond the image's own data).
        for (var copy = 0; copy < 6; copy++)
        {
            await QemuIoAsync(disk, $"write -P {0x10 + copy} {1024 + copy}M 1M");
            var result = await host.Driver.CopyDiskAsync(spec.Id, store);
            output.WriteLine($"Copy {copy}: {(result.Full ? "full" : "incremental")}, {result.BytesShipped} bytes, chain of {result.ChainLength}");
            Assert.Equal(copy == 0, result.Full);
            Assert.InRange(result.ChainLength, 1, 3);
        }

        var chain = new DiskCopyChain(store, spec.Id, new DiskCopyChainTools("qemu-img", TimeSpan.FromMinutes(5)));
        var manifest = (await chain.ReadAsync())!;
        Assert.Equal(3, manifest.Copies.Count);
        Assert.Equal([DiskCopyKind.Full, DiskCopyKind.Incremental, DiskCopyKind.Incremental], manifest.Copies.Select(c => c.Kind));
        // The store holds the manifest and the chain's files, nothing the compactions replaced.
        Assert.Equal(manifest.Copies.Select(c => c.Key).Append(chain.ManifestKey).Order(StringComparer.Ordinal),
            (await store.ListAsync("vms/chain/")).Select(o => o.Key).Order(StringComparer.Ordinal));

        using var work = new TempFolder();
        var restored = Path.Combine(work.Path, "restored.qcow2");
        await chain.MaterializeAsync(restored, work.Path);
        for (var copy = 0; copy < 6; copy++)
        {
            await QemuIoAsync(restored, $"read -P {0x10 + copy} {1024 + copy}M 1M");
        }

        // The image's own data came along too: the restored disk reads as the VM's disk does.
        await ProcessRunner.RunCheckedAsync("qemu-img", ["compare", "-f", "qcow2", "-F", "qcow2", disk, restored], TimeSpan.FromMinutes(5));
    }

    [Fact]
    public async Task Restore_OfACorruptObject_Fails()
    {
        using var storeFolder = new TempFolder();
        var store = CopyStores.Open("file://" + storeFolder.Path);
        await using var host = new VmHost(output);
        var spec = await VmHost.SpecAsync("corrupt", diskGiB: 8);
        await host.Driver.CreateAsync(spec);
        await host.Driver.CopyDiskAsync(spec.Id, store);

        // Flip the stored full copy's bytes behind the store's back.
        var stored = Directory.EnumerateFiles(storeFolder.Path, "*", SearchOption.AllDirectories)
            .Select(path => new FileInfo(path)).Where(f => f.LinkTarget is null).MaxBy(f => f.Length)!;
        await using (var stream = stored.Open(FileMode.Open, FileAccess.Write))
        {
            stream.Position = stored.Length / 2;
            stream.WriteByte(0x5a);
            stream.WriteByte(0xa5);
        }

        await using var other = new VmHost(output);
        await Assert.ThrowsAsync<CopyStoreCorruptException>(() => other.Driver.CreateFromCopyAsync(spec, store, spec.Id));
        Assert.Null(await other.Driver.GetAsync(spec.Id));
    }

    [Fact]
    public async Task Chain_InAnS3Store_RestoresTheDisk()
    {
        await using var s3 = await S3Server.StartAsync();
        var uri = await s3.NewBucketAsync($"chain-{Guid.NewGuid():N}"[..20], "region-a/copies");
        using var store = (S3CopyStore)CopyStores.Open(uri, s3.Options);
        await using var host = new VmHost(output);
        var spec = await VmHost.SpecAsync("ons3");
        await host.Driver.CreateAsync(spec);
        var disk = Path.Combine(host.DataPath, "vms", spec.Id, "disk.qcow2");
        await QemuIoAsync(disk, "write -P 0x21 1024M 3M");
        Assert.True((await host.Driver.CopyDiskAsync(spec.Id, store)).Full);
        await QemuIoAsync(disk, "write -P 0x22 2048M 2M");
        var increment = await host.Driver.CopyDiskAsync(spec.Id, store);
        Assert.False(increment.Full);
        Assert.InRange(increment.BytesShipped, 2L << 20, 3L << 20);

        await using var other = new VmHost(output);
        await other.Driver.CreateFromCopyAsync(spec, store, spec.Id);
        await ProcessRunner.RunCheckedAsync("qemu-img", ["compare", "-f", "qcow2", "-F", "qcow2", disk,
            Path.Combine(other.DataPath, "vms", spec.Id, "disk.qcow2")], TimeSpan.FromMinutes(5));
    }

    private static Task QemuIoAsync(string disk, string command) =>
        ProcessRunner.RunCheckedAsync("qemu-io", ["-f", "qcow2", "-c", command, disk], TimeSpan.FromMinutes(2));
}
