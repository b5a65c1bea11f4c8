using Microsoft.Extensions.Configuration;
using Stratus.HostAgent.Copies;

namespace Stratus.HostAgent.Tests.Copies;

/// <summary>CopyStores.Open: which URIs make which store, and what a wrong one is told.</summary>
public sealed class CopyStoresTests
{
    [Fact]
    public void A_file_uri_opens_a_folder_store()
    {
        var store = Assert.IsType<FileSystemCopyStore>(CopyStores.Open("file:///srv/stratus/copies/region-a/"));

        Assert.Equal("/srv/stratus/copies/region-a", store.RootPath);
        Assert.Equal("file:///srv/stratus/copies/region-a", store.Uri);
    }

    [Fact]
    public void An_s3_uri_opens_a_bucket_store_with_path_style_endpoint_and_region()
    {
        using var store = Assert.IsType<S3CopyStore>(CopyStores.Open("s3://stratus-copies/region-a/?endpoint=http://127.0.0.1:9000&region=eu-west-1"));

        Assert.Equal(new S3CopyStoreAddress("stratus-copies", "region-a", new Uri("http://127.0.0.1:9000"), "eu-west-1"), store.Address);
        Assert.Equal("s3://stratus-copies/region-a?endpoint=http%3A%2F%2F127.0.0.1%3A9000&region=eu-west-1", store.Uri);
        Assert.Equal("region-a/vms/x/chain.json", store.Address.ObjectKey("vms/x/chain.json"));
        Assert.Equal(S3CopyStoreAddress.Parse(store.Uri), store.Address);
    }

    [Fact]
    public void An_s3_uri_without_endpoint_or_region_is_aws_in_us_east_1()
    {
        Assert.Equal(new S3CopyStoreAddress("stratus-copies", "", null, "us-east-1"), S3CopyStoreAddress.Parse("s3://stratus-copies"));
    }

    [Theory]
    [InlineData("", "")]
    [InlineData("/srv/copies", "no known scheme")]
    [InlineData("http://127.0.0.1/copies", "no known scheme")]
    [InlineData("file://nas/copies", "names a host or a relative path")]
    [InlineData("file://copies", "names a host or a relative path")]
    [InlineData("file:///srv/../etc", "'..' segment")]
    [InlineData("file:///", "root folder")]
    [InlineData("file:///srv/copies?x=1", "query or fragment")]
    [InlineData("s3://Stratus_Copies/x", "bucket 'Stratus_Copies'")]
    [InlineData("s3://ab", "bucket 'ab'")]
    [InlineData("s3://key:secret@bucket/x", "credentials")]
    [InlineData("s3://bucket/x?endpoint=ftp://127.0.0.1", "endpoint 'ftp://127.0.0.1'")]
    [InlineData("s3://bucket/x?endpoint=http://key:secret@127.0.0.1:9000", "(with credentials)")]
    [InlineData("s3://bucket/x?accessKey=abc", "unknown parameter 'accessKey'")]
    [InlineData("s3://bucket/x?region=Mars_1", "region 'Mars_1'")]
    [InlineData("s3://bucket/x?region=a&region=b", "'region' 2 times")]
    [InlineData("s3://bucket/../x", "'..' segment")]
    [InlineData("s3://bucket/Copies", "segment 'Copies'")]
    public void A_wrong_uri_is_refused_saying_what_is_wrong(string uri, string what)
    {
        var error = Assert.ThrowsAny<ArgumentException>(() => CopyStores.Open(uri));

        Assert.Contains(what, error.Message);
        Assert.DoesNotContain("secret", error.Message);
    }

    [Fact]
    public void The_s3_credentials_come_from_configuration_and_half_of_them_is_refused_at_once()
    {
        static IConfiguration Configured(params (string Key, string Value)[] values) =>
            new ConfigurationBuilder().AddInMemoryCollection(values.Select(v => KeyValuePair.Create(v.Key, (string?)v.Value))).Build();

        var both = CopyStoreOptions.From(Configured(("Stratus:CopyStores:S3:AccessKey", "key"), ("Stratus:CopyStores:S3:SecretKey", "secret")));
        Assert.Equal(("key", "secret"), (both.S3.AccessKey, both.S3.SecretKey));
        var neither = CopyStoreOptions.From(Configured());
        Assert.Equal((null, null), (neither.S3.AccessKey, neither.S3.SecretKey));
        var error = Assert.Throws<ArgumentException>(() => CopyStoreOptions.From(Configured(("Stratus:CopyStores:S3:SecretKey", "secret"))));
        Assert.Contains("Stratus:CopyStores:S3:AccessKey and SecretKey", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Half_the_s3_credentials_is_refused()
    {
        var error = Assert.Throws<ArgumentException>(() => CopyStores.Open("s3://bucket/x", new CopyStoreOptions { S3 = { AccessKey = "key" } }));

        Assert.Contains("Stratus:CopyStores:S3:AccessKey and SecretKey", error.Message);
    }
}
