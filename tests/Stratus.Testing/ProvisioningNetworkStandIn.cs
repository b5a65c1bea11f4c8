using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;

namespace Stratus.Testing;

/// <summary>
/// STAND-IN for provisioning's two network endpoints of issue 20, built in parallel on another branch:
/// GET /api/v1/networkConnectionUsage/{id} (what the network service asks before a delete) and
/// POST /api/v1/onPremisesConnections/{id}/moveCloudPcs (the admin's move). A real HTTP server on 127.0.0.1 that a
/// stratus process reaches through Stratus:Services:provisioning:Url; every other path answers 404. Replace it with
/// the real provisioning service once its branch is merged.
/// </summary>
public sealed class ProvisioningNetworkStandIn : IAsyncDisposable
{
    private readonly HttpListener listener = new();
    private readonly ConcurrentDictionary<Guid, Usage> usages = new();
    private readonly CancellationTokenSource stopping = new();
    private readonly Task serving;

    public ProvisioningNetworkStandIn()
    {
        var port = FreePort.Next();
        Url = new Uri($"http://127.0.0.1:{port}/");
        listener.Prefixes.Add(Url.ToString());
        listener.Start();
        serving = ServeAsync();
    }

    public Uri Url { get; }

    /// <summary>The connections the move was asked for, in order.</summary>
    public ConcurrentQueue<Guid> MovesRequested { get; } = new();

    /// <summary>Makes the connection used by these policies and this many Cloud PCs (or by nothing again).</summary>
    public void SetUsage(Guid connectionId, int cloudPcCount, params (Guid Id, string DisplayName)[] policies) =>
        usages[connectionId] = new Usage(cloudPcCount, policies);

    /// <summary>The environment that sends a stratus process's calls to provisioning here.</summary>
    public Dictionary<string, string?> Environment() => new() { ["Stratus__Services__provisioning__Url"] = Url.ToString().TrimEnd('/') };

    private async Task ServeAsync()
    {
        while (!stopping.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException)
            {
                return;
            }

            using (context.Response)
            {
                Answer(context);
            }
        }
    }

    private void Answer(HttpListenerContext context)
    {
        var path = context.Request.Url!.AbsolutePath.Split('/', StringSplitOptions.RemoveEmptyEntries);
        switch (context.Request.HttpMethod, path)
        {
            case ("GET", ["api", "v1", "networkConnectionUsage", var id]) when Guid.TryParse(id, out var connectionId):
                var usage = usages.GetValueOrDefault(connectionId) ?? new Usage(0, []);
                Write(context, 200, new
                {
                    connectionId,
                    policies = usage.Policies.Select(p => new { id = p.Id, displayName = p.DisplayName }),
                    cloudPcCount = usage.CloudPcCount,
                });
                break;
            case ("POST", ["api", "v1", "onPremisesConnections", var id, "moveCloudPcs"]) when Guid.TryParse(id, out var connectionId):
                MovesRequested.Enqueue(connectionId);
                Write(context, 202, new { cloudPcCount = usages.GetValueOrDefault(connectionId)?.CloudPcCount ?? 0 });
                break;
            default:
                Write(context, 404, new { title = "Not Found", status = 404, detail = "The provisioning stand-in serves only the network endpoints of issue 20." });
                break;
        }
    }

    private static void Write(HttpListenerContext context, int status, object body)
    {
        var bytes = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(body, JsonSerializerOptions.Web));
        context.Response.StatusCode = status;
        context.Response.ContentType = status >= 400 ? "application/problem+json" : "application/json";
        context.Response.ContentLength64 = bytes.Length;
        context.Response.OutputStream.Write(bytes);
    }

    public async ValueTask DisposeAsync()
    {
        await stopping.CancelAsync();
        listener.Stop();
        listener.Close();
        await serving.WaitAsync(TimeSpan.FromSeconds(10));
        stopping.Dispose();
    }

    private sealed record Usage(int CloudPcCount, (Guid Id, string DisplayName)[] Policies);
}
