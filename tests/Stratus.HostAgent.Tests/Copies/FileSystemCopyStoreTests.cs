using Stratus.HostAgent.Copies;
using Stratus.Testing;

namespace Stratus.HostAgent.Tests.Copies;

/// <summary>The conformance tests on a folder of this machine, and what only a folder does.</summary>
public sealed class FileSystemCopyStoreTests : CopyStoreConformance
{
    private readonly TempFolder _stores = new();

    protected override Task<ICopyStore> NewStoreAsync() =>
        Task.FromResult(CopyStores.Open($"file://{Path.Combine(_stores.Path, "region-a")}"));

    protected override async Task AlterBehindTheStoresBackAsync(ICopyStore store, string key)
    {
        // The object's name, opened as any program would (through its link), one byte flipped in the middle.
        await using var file = new FileStream(Path.Combine(((FileSystemCopyStore)store).RootPath, key), FileMode.Open, FileAccess.ReadWrite);
        file.Position = file.Length / 2;
        var original = file.ReadByte();
        file.Position = file.Length / 2;
        file.WriteByte((byte)(original ^ 0xff));
    }

    public override void Dispose()
    {
        _stores.Dispose();
        base.Dispose();
    }

    [Fact]
    public async Task Free_bytes_are_the_file_systems_even_before_the_folder_exists()
    {
        var store = await NewStoreAsync();
        var before = await store.FreeBytesAsync();
        await store.PutBytesAsync("vms/a/chain.json", new byte[10]);

        Assert.InRange(before!.Value, 1, long.MaxValue);
        Assert.InRange((await store.FreeBytesAsync())!.Value, 1, long.MaxValue);
        Assert.Equal(new DriveInfo(_stores.Path).AvailableFreeSpace, (await store.FreeBytesAsync())!.Value, tolerance: 64L << 20);
    }

    [Fact]
    public async Task The_folder_holds_the_object_as_a_link_to_content_named_by_its_checksum_and_nothing_else()
    {
        var store = (FileSystemCopyStore)await NewStoreAsync();
        await store.PutBytesAsync("vms/a/chain.json", "one"u8.ToArray());
        await store.PutBytesAsync("vms/a/chain.json", "two"u8.ToArray());

        var folder = Path.Combine(store.RootPath, "vms", "a");
        Assert.Equal(["chain.json", $".chain.json.{Sha("two"u8.ToArray())}"],
            Directory.GetFileSystemEntries(folder).Select(Path.GetFileName).Order(StringComparer.Ordinal).Reverse());
        Assert.Equal($".chain.json.{Sha("two"u8.ToArray())}", new FileInfo(Path.Combine(folder, "chain.json")).LinkTarget);
        Assert.Equal("two", await File.ReadAllTextAsync(Path.Combine(folder, "chain.json")));
    }

    [Fact]
    public async Task A_plain_file_put_where_an_object_should_be_is_corrupt_not_trusted()
    {
        var store = (FileSystemCopyStore)await NewStoreAsync();
        Directory.CreateDirectory(Path.Combine(store.RootPath, "vms", "a"));
        await File.WriteAllTextAsync(Path.Combine(store.RootPath, "vms", "a", "chain.json"), "{}");

        await Assert.ThrowsAsync<CopyStoreCorruptException>(() => store.GetBytesAsync("vms/a/chain.json"));
        Assert.Empty(await store.ListAsync(""));
    }

    [Fact]
    public async Task A_put_removes_what_a_put_that_died_an_hour_ago_left_and_keeps_a_running_ones()
    {
        var store = (FileSystemCopyStore)await NewStoreAsync();
        await store.PutBytesAsync("vms/a/chain.json", "one"u8.ToArray());
        var folder = Path.Combine(store.RootPath, "vms", "a");
        var stale = new[] { $".chain.json.{Guid.NewGuid():N}.tmp", $".chain.json.{Sha("lost"u8.ToArray())}" };
        var fresh = $".chain.json.{Guid.NewGuid():N}.tmp";
        var otherKeys = $".chain.json.old.{Guid.NewGuid():N}.tmp";
        foreach (var name in stale.Append(fresh).Append(otherKeys))
        {
            await File.WriteAllTextAsync(Path.Combine(folder, name), "left over");
        }

        foreach (var name in stale.Append(otherKeys))
        {
            File.SetLastWriteTimeUtc(Path.Combine(folder, name), new DateTime(2020, 1, 1, 0, 0, 0, DateTimeKind.Utc));
        }

        await store.PutBytesAsync("vms/a/chain.json", "two"u8.ToArray());

        Assert.Equal(
            new[] { "chain.json", fresh, $".chain.json.{Sha("two"u8.ToArray())}", otherKeys }.Order(StringComparer.Ordinal),
            Directory.GetFileSystemEntries(folder).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }
}
