using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;

namespace Stratus.FrontDoor.Tests;

/// <summary>One front door and its regions for the routing tests that change neither (each test starts its own otherwise).</summary>
public sealed class SharedRegions : IAsyncLifetime
{
    public TwoRegions Regions { get; private set; } = null!;

    public async Task InitializeAsync() => Regions = await TwoRegions.StartAsync();

    public async Task DisposeAsync() => await Regions.DisposeAsync();
}

public sealed class RoutingTests(SharedRegions shared) : IClassFixture<SharedRegions>
{
    [Fact]
    public async Task Writes_GoToWritableRegion_ReadsToPreferredReadRegion_WithForwardedHeaders()
    {
        var regions = shared.Regions;
        using var client = regions.Client();

        // Until the first probes, B is not known healthy and reads go to the writable region: wait for B.
        var read = await TwoRegions.EventuallyAsync(() => client.GetFromJsonAsync<Echo>("/api/v1/cloudPCs"), e => e!.Region == "B", "a read served by B");
        Assert.Equal("GET", read!.Method);
        Assert.Equal("/api/v1/cloudPCs", read.Path);
        Assert.Equal(regions.FrontDoor.BaseAddress.Authority, read.ForwardedHost);
        Assert.Equal("http", read.ForwardedProto);

        using var write = await client.PostAsJsonAsync("/api/v1/cloudPCs", new { name = "x" });
        Assert.Equal("A", write.Headers.GetValues("Stratus-Region").Single());
        var echo = await write.Content.ReadFromJsonAsync<Echo>();
        Assert.Equal(("A", "POST"), (echo!.Region, echo.Method));

        // The services keep their own limits and keys: a body above the platform's 1 MiB (an image upload) passes, and
        // a signed-in caller's repeated Idempotency-Key reaches the region twice, not a replay by the door.
        using var upload = await client.PutAsync("/api/v1/deviceImages/x/content", new ByteArrayContent(new byte[3 * 1024 * 1024]));
        Assert.Equal(HttpStatusCode.OK, upload.StatusCode);
        using var signedIn = regions.Client(regions.Identity.OperatorToken());
        for (var i = 0; i < 2; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/tenants") { Content = JsonContent.Create(new { name = "t" }) };
            request.Headers.Add("Idempotency-Key", "same-key");
            using var keyed = await signedIn.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, keyed.StatusCode);
            Assert.False(keyed.Headers.Contains("Idempotent-Replayed"));
        }

        // A portal page (not under /api) is routed as well.
        var page = await client.GetFromJsonAsync<Echo>("/admin/policies");
        Assert.Equal(("B", "/admin/policies"), (page!.Region, page.Path));
    }

    [Fact]
    public async Task WebSocket_PassesThroughToTheReadRegion()
    {
        var regions = shared.Regions;
        using var client = regions.Client();
        await TwoRegions.EventuallyAsync(() => client.GetFromJsonAsync<Echo>("/api/v1/x"), e => e!.Region == "B", "a read served by B");

        using var socket = new ClientWebSocket();
        using var deadline = new CancellationTokenSource(TwoRegions.Deadline);
        await socket.ConnectAsync(new Uri($"ws://{regions.FrontDoor.BaseAddress.Authority}/ws"), deadline.Token);
        await socket.SendAsync(Encoding.UTF8.GetBytes("console frame"), WebSocketMessageType.Text, true, deadline.Token);
        var buffer = new byte[1024];
        var received = await socket.ReceiveAsync(buffer, deadline.Token);
        Assert.Equal("B:console frame", Encoding.UTF8.GetString(buffer, 0, received.Count));
        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, deadline.Token);
        Assert.Equal(WebSocketState.Closed, socket.State);
    }

    [Fact]
    public async Task FrontDoorOwnPaths_AreNotForwarded_ButTheServicesApiReferenceIs()
    {
        using var client = shared.Regions.Client();
        using var ready = await client.GetAsync("/readyz");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.False(ready.Headers.Contains("Stratus-Region"));

        using var deadLetters = await client.GetAsync("/api/v1/deadLetters");
        Assert.True(deadLetters.Headers.Contains("Stratus-Region"), "the services' dead letters, not the front door's own");
    }
}
