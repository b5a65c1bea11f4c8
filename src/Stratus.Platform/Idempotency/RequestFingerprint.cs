using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace Stratus.Platform.Idempotency;

/// <summary>What makes two requests with one Idempotency-Key the same request.</summary>
internal sealed record RequestFingerprint(string Method, string Path, string Hash)
{
    /// <summary>Bodies up to this size are hashed; a larger one (an image upload) is identified by its length.</summary>
    public const int MaxHashedBodyBytes = 1024 * 1024;

    /// <summary>
    /// The hash of method, path, query and body. The body is read here only up to <see cref="MaxHashedBodyBytes"/>
    /// (plus one read), and the endpoint then reads the same bytes: from memory for a small body, from memory and
    /// then the connection for a larger one without a Content-Length. A larger one with a Content-Length is not
    /// read at all.
    /// </summary>
    public static async Task<RequestFingerprint> ComputeAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(Encoding.UTF8.GetBytes($"{request.Method} {request.Path}{request.QueryString}\n"));
        if (request.ContentLength > MaxHashedBodyBytes)
        {
            hash.AppendData(Encoding.UTF8.GetBytes($"length {request.ContentLength}"));
        }
        else
        {
            var head = await ReadHeadAsync(request.Body, cancellationToken);
            if (head.Length <= MaxHashedBodyBytes)
            {
                hash.AppendData(head);
                request.Body = new MemoryStream(head, writable: false);
            }
            else
            {
                // A chunked body of unknown length: it streams on to the endpoint behind the bytes read here.
                hash.AppendData("length unknown"u8);
                request.Body = new PrefixedReadStream(head, request.Body);
            }
        }

        return new RequestFingerprint(request.Method, request.Path.ToString(), Convert.ToHexStringLower(hash.GetHashAndReset()));
    }

    /// <summary>The whole body when it is at most MaxHashedBodyBytes, else at least its first MaxHashedBodyBytes + 1 bytes.</summary>
    private static async Task<byte[]> ReadHeadAsync(Stream body, CancellationToken cancellationToken)
    {
        using var head = new MemoryStream();
        var chunk = new byte[64 * 1024];
        int read;
        while (head.Length <= MaxHashedBodyBytes && (read = await body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            head.Write(chunk, 0, read);
        }

        return head.ToArray();
    }
}

/// <summary>A request body of which the first bytes were already read: those bytes, then the rest of the original.</summary>
internal sealed class PrefixedReadStream(byte[] prefix, Stream rest) : Stream
{
    private int position;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        if (position < prefix.Length)
        {
            return CopyPrefix(buffer);
        }

        return rest.Read(buffer);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (position < prefix.Length)
        {
            return ValueTask.FromResult(CopyPrefix(buffer.Span));
        }

        return rest.ReadAsync(buffer, cancellationToken);
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    private int CopyPrefix(Span<byte> buffer)
    {
        var count = Math.Min(buffer.Length, prefix.Length - position);
        prefix.AsSpan(position, count).CopyTo(buffer);
        position += count;
        return count;
    }
}
