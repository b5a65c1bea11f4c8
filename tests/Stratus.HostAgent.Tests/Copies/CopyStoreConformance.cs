using System.Security.Cryptography;
using Stratus.HostAgent.Copies;
using Stratus.Testing;

namespace Stratus.HostAgent.Tests.Copies;

/// <summary>
/// What every <see cref="ICopyStore"/> promises, written once and run against each store on a real backend
/// (<see cref="FileSystemCopyStoreTests"/>: a folder; <see cref="S3CopyStoreTests"/>: an s3rver process).
/// </summary>
public abstract class CopyStoreConformance : IDisposable
{
    private readonly TempFolder _local = new();

    /// <summary>A new, empty store.</summary>
    protected abstract Task<ICopyStore> NewStoreAsync();

    /// <summary>Changes one byte of the stored object without the store (bit rot, a careless operator), keeping its checksum.</summary>
    protected abstract Task AlterBehindTheStoresBackAsync(ICopyStore store, string key);

    /// <summary>
    /// Whether the backend itself replaces an object in one step (S3, a folder through this store's rename). Where it does
    /// not (s3rver rewrites the file a reader streams), a read during an overwrite may fail, but must never return bytes
    /// that are neither version.
    /// </summary>
    protected virtual bool BackendReplacesAtomically => true;

    protected string LocalPath(string name) => Path.Combine(_local.Path, name);

    public virtual void Dispose()
    {
        _local.Dispose();
        GC.SuppressFinalize(this);
    }

    [Fact]
    public async Task A_file_of_several_MiB_comes_back_identical_with_its_sha256()
    {
        var store = await NewStoreAsync();
        var source = WriteRandomFile("disk.qcow2", 12 << 20);
        var expected = Convert.ToHexStringLower(SHA256.HashData(await File.ReadAllBytesAsync(source)));

        var put = await store.PutFileAsync("vms/vm-1/00000001.qcow2", source);
        var got = await store.GetFileAsync("vms/vm-1/00000001.qcow2", LocalPath("restored.qcow2"));

        Assert.Equal((12L << 20, expected), (put.Bytes, put.Sha256));
        Assert.Equal((12L << 20, expected), (got.Bytes, got.Sha256));
        Assert.Equal(await File.ReadAllBytesAsync(source), await File.ReadAllBytesAsync(LocalPath("restored.qcow2")));
        Assert.Equal(["restored.qcow2", "disk.qcow2"], Directory.GetFiles(_local.Path).Select(Path.GetFileName).OrderDescending());
    }

    [Fact]
    public async Task Bytes_round_trip_and_an_overwrite_replaces_them()
    {
        var store = await NewStoreAsync();
        await store.PutBytesAsync("vms/vm-1/chain.json", "{\"copies\":[]}"u8.ToArray());
        var second = await store.PutBytesAsync("vms/vm-1/chain.json", "{\"copies\":[1]}"u8.ToArray());

        Assert.Equal("{\"copies\":[1]}"u8.ToArray(), await store.GetBytesAsync("vms/vm-1/chain.json"));
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData("{\"copies\":[1]}"u8)), second.Sha256);
        Assert.Equal([("vms/vm-1/chain.json", 14L)], (await store.ListAsync("vms/")).Select(copy => (copy.Key, copy.Bytes)));
    }

    [Fact]
    public async Task A_reader_during_overwrites_sees_one_whole_version_or_the_other()
    {
        var store = await NewStoreAsync();
        var versions = new[] { WriteRandomFile("a", 3 << 20), WriteRandomFile("b", 3 << 20) };
        var hashes = versions.Select(path => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)))).ToHashSet();
        await store.PutFileAsync("vms/vm-1/00000002.qcow2", versions[0]);

        var writer = Task.Run(async () =>
        {
            for (var round = 1; round <= 12; round++)
            {
                await store.PutFileAsync("vms/vm-1/00000002.qcow2", versions[round % 2]);
            }
        });
        var (reads, whole) = (0, 0);
        while (!writer.IsCompleted || reads < 5)
        {
            reads++;
            byte[]? content;
            try
            {
                content = await store.GetBytesAsync("vms/vm-1/00000002.qcow2");
            }
            catch (CopyStoreException) when (!BackendReplacesAtomically)
            {
                continue;
            }

            Assert.NotNull(content);
            Assert.Contains(Convert.ToHexStringLower(SHA256.HashData(content)), hashes);
            whole++;
        }

        await writer;
        Assert.InRange(whole, BackendReplacesAtomically ? reads : 1, reads);
    }

    [Fact]
    public async Task Altered_bytes_are_detected_on_every_read_and_leave_no_file()
    {
        var store = await NewStoreAsync();
        await store.PutFileAsync("vms/vm-1/00000001.qcow2", WriteRandomFile("disk.qcow2", 2 << 20));
        await AlterBehindTheStoresBackAsync(store, "vms/vm-1/00000001.qcow2");

        var toFile = await Assert.ThrowsAsync<CopyStoreCorruptException>(() => store.GetFileAsync("vms/vm-1/00000001.qcow2", LocalPath("restored.qcow2")));
        var toBytes = await Assert.ThrowsAsync<CopyStoreCorruptException>(() => store.GetBytesAsync("vms/vm-1/00000001.qcow2"));

        Assert.Contains("vms/vm-1/00000001.qcow2", toFile.Message);
        Assert.Contains("vms/vm-1/00000001.qcow2", toBytes.Message);
        Assert.Equal(["disk.qcow2"], Directory.GetFiles(_local.Path).Select(Path.GetFileName));
    }

    [Fact]
    public async Task A_missing_object_is_not_found_and_leaves_no_file()
    {
        var store = await NewStoreAsync();

        await Assert.ThrowsAsync<CopyObjectNotFoundException>(() => store.GetFileAsync("vms/none/00000001.qcow2", LocalPath("restored.qcow2")));

        Assert.Null(await store.GetBytesAsync("vms/none/chain.json"));
        Assert.Empty(Directory.GetFiles(_local.Path));
    }

    [Fact]
    public async Task List_gives_the_keys_under_a_prefix_with_sizes_and_checksums()
    {
        var store = await NewStoreAsync();
        await store.PutBytesAsync("vms/a/chain.json", new byte[10]);
        await store.PutBytesAsync("vms/a/00000001.qcow2", new byte[20]);
        await store.PutBytesAsync("vms/ab/chain.json", new byte[30]);
        await store.PutBytesAsync("vms/b/chain.json", new byte[40]);

        var underA = await store.ListAsync("vms/a/");
        var startingA = await store.ListAsync("vms/a");
        var all = await store.ListAsync("");

        Assert.Equal([("vms/a/00000001.qcow2", 20L, Sha(new byte[20])), ("vms/a/chain.json", 10L, Sha(new byte[10]))],
            underA.Select(copy => (copy.Key, copy.Bytes, copy.Sha256)));
        Assert.Equal(["vms/a/00000001.qcow2", "vms/a/chain.json", "vms/ab/chain.json"], startingA.Select(copy => copy.Key));
        Assert.Equal(4, all.Count);
        Assert.Empty(await store.ListAsync("vms/c/"));
    }

    [Fact]
    public async Task Delete_removes_the_object_and_is_idempotent()
    {
        var store = await NewStoreAsync();
        await store.PutBytesAsync("vms/a/chain.json", new byte[10]);
        await store.PutBytesAsync("vms/a/00000001.qcow2", new byte[20]);

        await store.DeleteAsync("vms/a/00000001.qcow2");
        await store.DeleteAsync("vms/a/00000001.qcow2");
        await store.DeleteAsync("vms/never/00000001.qcow2");

        Assert.Null(await store.GetBytesAsync("vms/a/00000001.qcow2"));
        Assert.Equal(["vms/a/chain.json"], (await store.ListAsync("")).Select(copy => copy.Key));
    }

    [Theory]
    [InlineData("../outside")]
    [InlineData("vms/../../outside")]
    [InlineData("/etc/passwd")]
    [InlineData("vms//chain.json")]
    [InlineData("vms/./chain.json")]
    [InlineData("vms/.hidden")]
    [InlineData("VMS/chain.json")]
    [InlineData("vms/chain json")]
    [InlineData("vms/a/")]
    [InlineData("")]
    public async Task A_bad_key_is_refused_before_anything_is_written(string key)
    {
        var store = await NewStoreAsync();
        var source = WriteRandomFile("disk.qcow2", 1024);

        await Assert.ThrowsAsync<ArgumentException>(() => store.PutFileAsync(key, source));
        await Assert.ThrowsAsync<ArgumentException>(() => store.PutBytesAsync(key, new byte[1]));
        await Assert.ThrowsAsync<ArgumentException>(() => store.GetFileAsync(key, LocalPath("restored")));
        await Assert.ThrowsAsync<ArgumentException>(() => store.GetBytesAsync(key));
        await Assert.ThrowsAsync<ArgumentException>(() => store.DeleteAsync(key));

        Assert.Empty(await store.ListAsync(""));
        Assert.False(File.Exists(LocalPath("restored")));
    }

    protected static string Sha(byte[] content) => Convert.ToHexStringLower(SHA256.HashData(content));

    private string WriteRandomFile(string name, int bytes)
    {
        var content = new byte[bytes];
        Random.Shared.NextBytes(content);
        File.WriteAllBytes(LocalPath(name), content);
        return LocalPath(name);
    }
}
