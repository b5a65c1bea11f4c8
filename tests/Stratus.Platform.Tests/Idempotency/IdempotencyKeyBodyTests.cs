using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using Microsoft.Extensions.Hosting;
using Stratus.Platform.Idempotency;
using Stratus.Platform.Messaging;
using Stratus.Platform.Persistence;
using Stratus.Platform.Tests.Support;
using Stratus.Testing;
using static Stratus.Platform.Tests.Idempotency.IdempotencyRequests;

namespace Stratus.Platform.Tests.Idempotency;

/// <summary>The Idempotency-Key with large and chunked bodies: streamed to the endpoint, fingerprinted by length above 1 MiB, endpoint limits kept.</summary>
[Collection(PostgresCollection.Name)]
public sealed class IdempotencyKeyBodyTests(PostgresServer postgres, ITestOutputHelper output)
{
    private static readonly Guid TenantA = Guid.NewGuid();

    [Fact]
    public async Task LargeBodies_StreamToTheEndpoint_AndAreKnownByTheirLength()
    {
        using var database = await TestDatabase.CreateAsync(DatabaseProvider.Sqlite, postgres);
        await using var host = await KeyedApiHost.StartAsync(database, output);
        using var client = host.Client(Guid.NewGuid(), TenantA);

        // Chunked, above the server's default limit of about 28 MiB: it reaches the endpoint whole, whose lifted
        // limit still applies after the middleware read its start.
        var big = RandomNumberGenerator.GetBytes(40 * 1024 * 1024);
        using (var uploaded = await UploadAsync(client, "upload-1", big, chunked: true))
        {
            Assert.Equal(HttpStatusCode.OK, uploaded.StatusCode);
            Assert.Equal(new UploadBody(big.Length, Convert.ToHexStringLower(SHA256.HashData(big))), await uploaded.Content.ReadFromJsonAsync<UploadBody>());
        }

        // With a length above 1 MiB the body is not read for the fingerprint: the length stands for it.
        var twoMiB = RandomNumberGenerator.GetBytes(2 * 1024 * 1024);
        using (var uploaded = await UploadAsync(client, "upload-2", twoMiB, chunked: false))
        {
            Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(twoMiB)), (await uploaded.Content.ReadFromJsonAsync<UploadBody>())!.Sha256);
        }

        using (var sameLength = await UploadAsync(client, "upload-2", RandomNumberGenerator.GetBytes(twoMiB.Length), chunked: false))
        {
            Assert.True(sameLength.Headers.Contains(IdempotencyMiddleware.ReplayedHeader));
        }

        using (var otherLength = await UploadAsync(client, "upload-2", RandomNumberGenerator.GetBytes(twoMiB.Length + 1), chunked: false))
        {
            await AssertProblemAsync(otherLength, HttpStatusCode.Conflict, "idempotency-key-reused");
        }

        // A small body is hashed whether or not it has a length.
        using (var small = await UploadAsync(client, "upload-3", [1, 2, 3], chunked: false))
        {
            Assert.Equal(3, (await small.Content.ReadFromJsonAsync<UploadBody>())!.Length);
        }

        using (var smallChunked = await UploadAsync(client, "upload-3", [1, 2, 3], chunked: true))
        {
            Assert.True(smallChunked.Headers.Contains(IdempotencyMiddleware.ReplayedHeader));
        }

        using (var smallOther = await UploadAsync(client, "upload-3", [1, 2, 4], chunked: false))
        {
            await AssertProblemAsync(smallOther, HttpStatusCode.Conflict, "idempotency-key-reused");
        }

        Assert.Equal(3, host.Executions("uploads"));

        // An endpoint's own smaller limit still holds, though the middleware reads the body first.
        using var tooLarge = await SendAsync(client, HttpMethod.Post, "/api/v1/small", "small-1", new { name = new string('x', 2048) });
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooLarge.StatusCode);
        Assert.Equal(0, host.Executions("small"));
    }

    private static Task<HttpResponseMessage> UploadAsync(HttpClient client, string key, byte[] body, bool chunked)
    {
        var request = new HttpRequestMessage(HttpMethod.Put, "/api/v1/uploads")
        {
            // A StreamContent over a stream that cannot seek has no length, so HttpClient sends it chunked.
            Content = chunked ? new StreamContent(new UnseekableStream(body)) : new ByteArrayContent(body),
        };
        request.Headers.Add(IdempotencyMiddleware.Header, key);
        return client.SendAsync(request);
    }

    private sealed class UnseekableStream(byte[] bytes) : MemoryStream(bytes)
    {
        public override bool CanSeek => false;
    }
}
