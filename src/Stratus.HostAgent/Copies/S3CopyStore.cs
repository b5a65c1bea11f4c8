using System.Net;
using Amazon;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;

namespace Stratus.HostAgent.Copies;

/// <summary>
/// A copy store in an S3-compatible bucket (s3://BUCKET/PREFIX?endpoint=URL&amp;region=R). S3 makes every put atomic
/// by itself (a reader sees the old object or the whole new one). The SHA-256 rides as the object's metadata
/// <c>x-amz-meta-sha256</c>; metadata must be sent before the content, so a file is hashed in a first local read and
/// then uploaded, in parts above <see cref="MultipartAboveBytes"/> (a disk copy may be GBs; S3 takes 5 GiB at most in
/// one request and 10,000 parts). Every read is checked against it. An endpoint (MinIO, Ceph RGW, Garage) is addressed
/// path-style, which every S3-compatible server understands, unlike bucket-named hosts.
/// </summary>
public sealed class S3CopyStore : ICopyStore, IDisposable
{
    /// <summary>Sent as x-amz-meta-sha256 (the SDK adds the prefix).</summary>
    internal const string Sha256Metadata = "sha256";

    public const long DefaultPartBytes = 64L << 20;
    private const long MinimumPartBytes = 5L << 20;
    private const int MaximumParts = 10_000;

    private readonly AmazonS3Client _s3;
    private readonly TimeProvider _time;

    public S3CopyStore(S3CopyStoreAddress address, CopyStoreOptions options, TimeProvider? time = null, long partBytes = DefaultPartBytes)
    {
        _time = time ?? TimeProvider.System;
        ArgumentOutOfRangeException.ThrowIfLessThan(partBytes, MinimumPartBytes);
        Address = address;
        PartBytes = partBytes;
        _s3 = CreateClient(address, options.S3);
    }

    public string Uri => Address.ToString();

    public S3CopyStoreAddress Address { get; }

    /// <summary>The size of an upload's parts (at least S3's minimum of 5 MiB); larger for a file of more than 10,000 of them.</summary>
    public long PartBytes { get; }

    public long MultipartAboveBytes => PartBytes;

    public async Task<CopyObject> PutFileAsync(string key, string sourcePath, CancellationToken cancellationToken = default)
    {
        CopyStoreKeys.Validate(key);
        var (bytes, sha256) = await HashingCopy.HashFileAsync(sourcePath, cancellationToken);
        await CallAsync<AmazonWebServiceResponse>("put", key, async () => bytes > MultipartAboveBytes
            ? await PutInPartsAsync(key, sourcePath, bytes, sha256, cancellationToken)
            : await _s3.PutObjectAsync(NewPut(key, sha256, request => request.FilePath = sourcePath), cancellationToken));
        return new CopyObject(key, bytes, sha256, _time.GetUtcNow());
    }

    public async Task<CopyObject> PutBytesAsync(string key, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default)
    {
        CopyStoreKeys.Validate(key);
        using var stream = new MemoryStream(content.ToArray(), writable: false);
        var (bytes, sha256) = await HashingCopy.CopyAsync(stream, Stream.Null, cancellationToken);
        stream.Position = 0;
        await CallAsync("put", key, () => _s3.PutObjectAsync(NewPut(key, sha256, request => request.InputStream = stream), cancellationToken));
        return new CopyObject(key, bytes, sha256, _time.GetUtcNow());
    }

    public Task<CopyObject> GetFileAsync(string key, string destinationPath, CancellationToken cancellationToken = default)
    {
        CopyStoreKeys.Validate(key);
        return HashingCopy.ReadToFileAsync(key, destinationPath, output => ReadAsync(key, output, cancellationToken));
    }

    public Task<byte[]?> GetBytesAsync(string key, CancellationToken cancellationToken = default)
    {
        CopyStoreKeys.Validate(key);
        return HashingCopy.ReadToBytesAsync(output => ReadAsync(key, output, cancellationToken));
    }

    public async Task<IReadOnlyList<CopyObject>> ListAsync(string prefix, CancellationToken cancellationToken = default)
    {
        CopyStoreKeys.ValidatePrefix(prefix);
        var ownPrefix = Address.Prefix.Length == 0 ? "" : Address.Prefix + "/";
        var request = new ListObjectsV2Request { BucketName = Address.Bucket, Prefix = ownPrefix + prefix };
        var found = new List<CopyObject>();
        do
        {
            var page = await CallAsync("list", prefix, () => _s3.ListObjectsV2Async(request, cancellationToken));
            foreach (var entry in page.S3Objects ?? [])
            {
                var key = entry.Key[ownPrefix.Length..];
                if (!IsKey(key))
                {
                    continue;
                }

                // A listing carries no metadata: the checksum takes a HEAD per object (a chain has a dozen or so).
                var head = await HeadAsync(key, cancellationToken);
                if (head is not null)
                {
                    found.Add(head);
                }
            }

            request.ContinuationToken = page.IsTruncated == true ? page.NextContinuationToken : null;
        }
        while (request.ContinuationToken is not null);

        return [.. found.OrderBy(copy => copy.Key, StringComparer.Ordinal)];
    }

    public Task DeleteAsync(string key, CancellationToken cancellationToken = default)
    {
        CopyStoreKeys.Validate(key);

        // S3 answers 204 for a key that is not there: idempotent as it is.
        return CallAsync("delete", key, () => _s3.DeleteObjectAsync(Address.Bucket, Address.ObjectKey(key), cancellationToken));
    }

    public Task<long?> FreeBytesAsync(CancellationToken cancellationToken = default) => Task.FromResult<long?>(null);

    public void Dispose() => _s3.Dispose();

    private async Task<CopyObject?> ReadAsync(string key, Stream output, CancellationToken cancellationToken)
    {
        GetObjectResponse response;
        try
        {
            response = await CallAsync("get", key, () => _s3.GetObjectAsync(Address.Bucket, Address.ObjectKey(key), cancellationToken));
        }
        catch (CopyStoreException e) when (e.InnerException is AmazonS3Exception { StatusCode: HttpStatusCode.NotFound, ErrorCode: not "NoSuchBucket" })
        {
            return null;
        }

        using (response)
        {
            var expected = response.Metadata[Sha256Metadata];
            long bytes;
            string actual;
            try
            {
                (bytes, actual) = await HashingCopy.CopyAsync(response.ResponseStream, output, cancellationToken);
            }
            catch (HttpIOException e)
            {
                // The connection broke mid-object (or a server that rewrites objects in place, as s3rver does, cut it short).
                throw new CopyStoreException($"The copy store {Uri} failed to get '{key}': {e.Message}", e);
            }
            catch (AmazonClientException)
            {
                // The SDK checks a single-part object's body against its ETag (MD5) at the end of the stream and throws
                // before our own check can: the bytes are not the ones stored, which is what corrupt means here.
                throw new CopyStoreCorruptException(key, string.IsNullOrEmpty(expected) ? "(none)" : expected, "(a body that does not match its ETag)");
            }

            if (string.IsNullOrEmpty(expected) || actual != expected)
            {
                throw new CopyStoreCorruptException(key, string.IsNullOrEmpty(expected) ? "(none)" : expected, actual);
            }

            return new CopyObject(key, bytes, actual, response.LastModified is { } at ? new DateTimeOffset(at.ToUniversalTime(), TimeSpan.Zero) : default);
        }
    }

    private async Task<CopyObject?> HeadAsync(string key, CancellationToken cancellationToken)
    {
        try
        {
            var head = await CallAsync("head", key, () => _s3.GetObjectMetadataAsync(Address.Bucket, Address.ObjectKey(key), cancellationToken));
            return new CopyObject(key, head.ContentLength, head.Metadata[Sha256Metadata] ?? "",
                head.LastModified is { } at ? new DateTimeOffset(at.ToUniversalTime(), TimeSpan.Zero) : default);
        }
        catch (CopyStoreException e) when (e.InnerException is AmazonS3Exception { StatusCode: HttpStatusCode.NotFound })
        {
            // Deleted between the listing and the HEAD.
            return null;
        }
    }

    private async Task<CompleteMultipartUploadResponse> PutInPartsAsync(string key, string sourcePath, long bytes, string sha256, CancellationToken cancellationToken)
    {
        var partBytes = Math.Max(PartBytes, (bytes + MaximumParts - 1) / MaximumParts);
        var start = new InitiateMultipartUploadRequest { BucketName = Address.Bucket, Key = Address.ObjectKey(key) };
        start.Metadata[Sha256Metadata] = sha256;
        var upload = await _s3.InitiateMultipartUploadAsync(start, cancellationToken);
        try
        {
            var parts = new List<PartETag>();
            for (var (number, position) = (1, 0L); position < bytes; number++, position += partBytes)
            {
                var part = await _s3.UploadPartAsync(new UploadPartRequest
                {
                    BucketName = Address.Bucket,
                    Key = Address.ObjectKey(key),
                    UploadId = upload.UploadId,
                    PartNumber = number,
                    FilePath = sourcePath,
                    FilePosition = position,
                    PartSize = Math.Min(partBytes, bytes - position),
                    UseChunkEncoding = false,
                }, cancellationToken);
                parts.Add(new PartETag(number, part.ETag));
            }

            return await _s3.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest
            {
                BucketName = Address.Bucket,
                Key = Address.ObjectKey(key),
                UploadId = upload.UploadId,
                PartETags = parts,
            }, cancellationToken);
        }
        catch
        {
            // An abandoned upload keeps its parts (and their cost) until aborted; a failed abort leaves them to the
            // bucket's lifecycle rule for incomplete uploads.
            try
            {
                await _s3.AbortMultipartUploadAsync(Address.Bucket, Address.ObjectKey(key), upload.UploadId, CancellationToken.None);
            }
            catch (Exception e) when (e is AmazonServiceException or HttpRequestException)
            {
            }

            throw;
        }
    }

    private PutObjectRequest NewPut(string key, string sha256, Action<PutObjectRequest> content)
    {
        // No aws-chunked encoding: many S3-compatible servers do not take it, and the payload is signed anyway.
        var request = new PutObjectRequest { BucketName = Address.Bucket, Key = Address.ObjectKey(key), UseChunkEncoding = false, AutoCloseStream = false };
        request.Metadata[Sha256Metadata] = sha256;
        content(request);
        return request;
    }

    private async Task<T> CallAsync<T>(string operation, string key, Func<Task<T>> call)
    {
        try
        {
            return await call();
        }
        catch (Exception e) when (e is AmazonServiceException or AmazonClientException or HttpRequestException)
        {
            var why = e is AmazonS3Exception s3 ? $"{(int)s3.StatusCode} {s3.ErrorCode}: {s3.Message}" : e.Message;
            throw new CopyStoreException($"The copy store {Uri} failed to {operation} '{key}': {why}", e);
        }
    }

    private static bool IsKey(string key)
    {
        try
        {
            CopyStoreKeys.Validate(key);
            return true;
        }
        catch (ArgumentException)
        {
            // Someone else's object under the prefix: not part of any chain.
            return false;
        }
    }

    private static AmazonS3Client CreateClient(S3CopyStoreAddress address, S3CredentialOptions credentials)
    {
        var config = new AmazonS3Config
        {
            // Checksums only where S3 requires them: the trailing checksums the SDK adds by default are refused by
            // many S3-compatible servers, and the store checks its own SHA-256 on every read anyway.
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
        };
        if (address.Endpoint is not null)
        {
            config.ServiceURL = address.Endpoint.ToString();
            config.ForcePathStyle = true;
            config.AuthenticationRegion = address.Region;
        }
        else
        {
            config.RegionEndpoint = RegionEndpoint.GetBySystemName(address.Region);
        }

        return (credentials.AccessKey, credentials.SecretKey) switch
        {
            ({ Length: > 0 } accessKey, { Length: > 0 } secretKey) => new AmazonS3Client(new BasicAWSCredentials(accessKey, secretKey), config),
            (null or "", null or "") => new AmazonS3Client(config),
            _ => throw new ArgumentException(CopyStoreOptions.OneOfTwoKeys),
        };
    }
}
