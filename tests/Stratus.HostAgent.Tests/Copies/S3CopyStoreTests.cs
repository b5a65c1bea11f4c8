using Amazon.S3.Model;
using Stratus.HostAgent.Copies;
using Stratus.HostAgent.Tests.Support;

namespace Stratus.HostAgent.Tests.Copies;

/// <summary>One s3rver process for the class's tests; each test has a bucket of its own.</summary>
public sealed class S3ServerFixture : IAsyncLifetime
{
    public S3Server Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await S3Server.StartAsync();

    public async Task DisposeAsync() => await Server.DisposeAsync();
}

/// <summary>
/// The conformance tests on a real S3-compatible server (s3rver: see <see cref="S3Server"/> for why that one), under
/// a prefix, with 5 MiB parts so that the several-MiB file goes up in a multipart upload as a disk copy of GBs does.
/// </summary>
public sealed class S3CopyStoreTests(S3ServerFixture fixture) : CopyStoreConformance, IClassFixture<S3ServerFixture>
{
    private readonly List<S3CopyStore> _stores = [];

    private S3Server Server => fixture.Server;

    // s3rver writes an overwritten object in place, so a reader streaming it meanwhile is cut short; S3 itself is atomic.
    protected override bool BackendReplacesAtomically => false;

    protected override async Task<ICopyStore> NewStoreAsync()
    {
        var uri = await Server.NewBucketAsync($"copies-{Guid.NewGuid():N}"[..20], "region-a/copies");
        var store = new S3CopyStore(S3CopyStoreAddress.Parse(uri), Server.Options, partBytes: 5L << 20);
        _stores.Add(store);
        return store;
    }

    protected override async Task AlterBehindTheStoresBackAsync(ICopyStore store, string key)
    {
        // The same object again with one byte flipped and the old checksum in its metadata, as a corrupted replica would serve it.
        var address = ((S3CopyStore)store).Address;
        using var client = Server.NewClient();
        using var original = await client.GetObjectAsync(address.Bucket, address.ObjectKey(key));
        using var content = new MemoryStream();
        await original.ResponseStream.CopyToAsync(content);
        var bytes = content.ToArray();
        bytes[bytes.Length / 2] ^= 0xff;
        var put = new PutObjectRequest { BucketName = address.Bucket, Key = address.ObjectKey(key), InputStream = new MemoryStream(bytes), UseChunkEncoding = false };
        put.Metadata[S3CopyStore.Sha256Metadata] = original.Metadata[S3CopyStore.Sha256Metadata];
        await client.PutObjectAsync(put);
    }

    public override void Dispose()
    {
        _stores.ForEach(store => store.Dispose());
        base.Dispose();
    }

    [Fact]
    public async Task Objects_live_under_the_stores_prefix_and_the_checksum_in_their_metadata()
    {
        var store = (S3CopyStore)await NewStoreAsync();
        await store.PutBytesAsync("vms/a/chain.json", "{}"u8.ToArray());

        using var client = Server.NewClient();
        var head = await client.GetObjectMetadataAsync(store.Address.Bucket, "region-a/copies/vms/a/chain.json");

        Assert.Equal(Sha("{}"u8.ToArray()), head.Metadata["x-amz-meta-sha256"]);
        Assert.Null(await store.FreeBytesAsync());
    }

    [Fact]
    public async Task The_configured_access_key_is_the_one_sent()
    {
        // s3rver checks the access key id (not V4 signatures: "unimplemented" in its authentication.js), so a key it
        // does not know proves the configured one reaches the server.
        var store = (S3CopyStore)await NewStoreAsync();
        using var stranger = new S3CopyStore(store.Address, new CopyStoreOptions { S3 = { AccessKey = "stranger", SecretKey = "secret" } });

        var error = await Assert.ThrowsAsync<CopyStoreException>(() => stranger.PutBytesAsync("vms/a/chain.json", "{}"u8.ToArray()));

        Assert.Contains("InvalidAccessKeyId", error.Message);
        Assert.DoesNotContain("secret", error.Message);
        Assert.Empty(await store.ListAsync(""));
    }

    [Fact]
    public async Task Without_configured_credentials_the_aws_environment_variables_are_used()
    {
        var store = (S3CopyStore)await NewStoreAsync();
        var saved = (Environment.GetEnvironmentVariable("AWS_ACCESS_KEY_ID"), Environment.GetEnvironmentVariable("AWS_SECRET_ACCESS_KEY"));
        try
        {
            Environment.SetEnvironmentVariable("AWS_SECRET_ACCESS_KEY", S3Server.SecretKey);
            Environment.SetEnvironmentVariable("AWS_ACCESS_KEY_ID", "stranger");
            using (var stranger = new S3CopyStore(store.Address, new CopyStoreOptions()))
            {
                var error = await Assert.ThrowsAsync<CopyStoreException>(() => stranger.PutBytesAsync("vms/a/chain.json", "{}"u8.ToArray()));
                Assert.Contains("InvalidAccessKeyId", error.Message);
            }

            Environment.SetEnvironmentVariable("AWS_ACCESS_KEY_ID", S3Server.AccessKey);
            using var known = new S3CopyStore(store.Address, new CopyStoreOptions());
            await known.PutBytesAsync("vms/a/chain.json", "{}"u8.ToArray());
        }
        finally
        {
            Environment.SetEnvironmentVariable("AWS_ACCESS_KEY_ID", saved.Item1);
            Environment.SetEnvironmentVariable("AWS_SECRET_ACCESS_KEY", saved.Item2);
        }

        Assert.Equal("{}"u8.ToArray(), await store.GetBytesAsync("vms/a/chain.json"));
    }

    [Fact]
    public async Task A_missing_bucket_is_an_error_not_a_missing_object()
    {
        var uri = $"s3://no-such-bucket/x?endpoint={Uri.EscapeDataString(Server.Endpoint.ToString())}";
        using var store = (S3CopyStore)CopyStores.Open(uri, Server.Options);

        var error = await Assert.ThrowsAsync<CopyStoreException>(() => store.GetBytesAsync("vms/a/chain.json"));

        Assert.Contains("NoSuchBucket", error.Message);
    }
}
