using System.Net.WebSockets;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Stratus.FrontDoor.Tests;

/// <summary>What a stand-in instance says it served.</summary>
public sealed record Echo(string Region, string Instance, string Method, string Path, string? ForwardedHost, string? ForwardedProto);

/// <summary>
/// A test stand-in for one instance of a region (named so): a real Kestrel server on 127.0.0.1 that answers /readyz
/// 200 while <see cref="Ready"/> (else 503, as an instance whose store is away), echoes every other request with its
/// region and name, and echoes WebSocket messages at /ws prefixed with its region.
/// </summary>
public sealed class StandInInstance : IAsyncDisposable
{
    private readonly WebApplication app;

    private StandInInstance(WebApplication app, string region, string name)
    {
        this.app = app;
        Region = region;
        Name = name;
    }

    public string Region { get; }

    public string Name { get; }

    public volatile bool Ready = true;

    public Uri Url => new(app.Urls.First());

    public static async Task<StandInInstance> StartAsync(string region, string name)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var instance = new StandInInstance(app, region, name);
        app.UseWebSockets();
        app.MapGet("/readyz", () => instance.Ready ? Results.Json(new { status = "Healthy", region }) : Results.StatusCode(503));
        app.Map("/ws", async context =>
        {
            if (!context.WebSockets.IsWebSocketRequest)
            {
                context.Response.StatusCode = 400;
                return;
            }

            using var socket = await context.WebSockets.AcceptWebSocketAsync();
            var buffer = new byte[4096];
            while (true)
            {
                var received = await socket.ReceiveAsync(buffer, context.RequestAborted);
                if (received.MessageType == WebSocketMessageType.Close)
                {
                    await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, context.RequestAborted);
                    return;
                }

                var answer = Encoding.UTF8.GetBytes($"{region}:{Encoding.UTF8.GetString(buffer, 0, received.Count)}");
                await socket.SendAsync(answer, WebSocketMessageType.Text, true, context.RequestAborted);
            }
        });
        app.Map("/{**path}", (HttpContext context) => Results.Json(new Echo(region, name, context.Request.Method, context.Request.Path,
            context.Request.Headers["X-Forwarded-Host"].FirstOrDefault(), context.Request.Headers["X-Forwarded-Proto"].FirstOrDefault())));
        await app.StartAsync();
        return instance;
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }
}
