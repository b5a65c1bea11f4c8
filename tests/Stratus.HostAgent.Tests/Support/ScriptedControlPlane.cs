using System.Net;
using System.Text;
using System.Text.Json;
using Stratus.HostAgent.Agent;
using Stratus.Testing;

namespace Stratus.HostAgent.Tests.Support;

/// <summary>
/// Answers the agent's protocol on 127.0.0.1 (real HTTP) as a test scripts it: enrollment always succeeds, the
/// n-th desired-state request (from 1) gets <c>desiredState(hostId, n)</c>, and every report is kept.
/// </summary>
internal sealed class ScriptedControlPlane : IAsyncDisposable
{
    private readonly HttpListener listener = new();
    private readonly Task serving;
    private readonly Func<Guid, int, string> desiredState;
    private readonly List<JsonElement> reports = [];
    private int desiredStateRequests;

    public ScriptedControlPlane(Func<Guid, int, string> desiredState)
    {
        this.desiredState = desiredState;
        var port = FreePort.Next();
        Url = new Uri($"http://127.0.0.1:{port}/");
        listener.Prefixes.Add(Url.ToString());
        listener.Start();
        serving = ServeAsync();
    }

    public Uri Url { get; }

    public Guid HostId { get; } = Guid.CreateVersion7();

    public int DesiredStateRequests => Volatile.Read(ref desiredStateRequests);

    public int Reports
    {
        get
        {
            lock (reports)
            {
                return reports.Count;
            }
        }
    }

    /// <summary>An agent of this control plane named <paramref name="name"/>, its data (identity, images) under <paramref name="dataPath"/>.</summary>
    public AgentOptions AgentOptions(string dataPath, string name, TimeSpan heartbeatInterval) => new()
    {
        ControlPlane = Url,
        EnrollmentToken = "enrollment-token",
        Region = "region-1",
        Zone = "region-1a",
        Name = name,
        DataFolder = Path.Combine(dataPath, "agent"),
        ImagesFolder = Path.Combine(dataPath, "images"),
        HeartbeatInterval = heartbeatInterval,
    };

    /// <summary>The last report the agent sent, or null before the first.</summary>
    public JsonElement? LastReport
    {
        get
        {
            lock (reports)
            {
                return reports.Count == 0 ? null : reports[^1];
            }
        }
    }

    private async Task ServeAsync()
    {
        while (listener.IsListening)
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

            // Each request on its own: a desired-state answer held back (a long poll) must not hold up reports.
            _ = AnswerAsync(context);
        }
    }

    private async Task AnswerAsync(HttpListenerContext context)
    {
        var path = context.Request.Url!.AbsolutePath;
        if (path == "/api/v1/agent/report")
        {
            var report = await JsonSerializer.DeserializeAsync<JsonElement>(context.Request.InputStream);
            lock (reports)
            {
                reports.Add(report);
            }
        }

        string body = "";
        var status = 404;
        if (path == "/api/v1/agent/enroll")
        {
            (status, body) = (200, $$"""{"hostId":"{{HostId}}","agentToken":"agent-token","region":"region-1","zone":"region-1a"}""");
        }
        else if (path == "/api/v1/agent/desiredState")
        {
            // After the first answers, a second's wait as a long poll does: an agent converges on each answer at once.
            var request = Interlocked.Increment(ref desiredStateRequests);
            if (request > 2 && context.Request.QueryString["after"] is not null)
            {
                await Task.Delay(TimeSpan.FromSeconds(1));
            }

            (status, body) = (200, desiredState(HostId, request));
        }
        else if (path == "/api/v1/agent/report")
        {
            status = 204;
        }

        try
        {
            context.Response.StatusCode = status;
            context.Response.ContentType = "application/json";
            await context.Response.OutputStream.WriteAsync(Encoding.UTF8.GetBytes(body));
            context.Response.Close();
        }
        catch (Exception e) when (e is HttpListenerException or ObjectDisposedException)
        {
            // Stopped while answering.
        }
    }

    public async ValueTask DisposeAsync()
    {
        listener.Stop();
        listener.Close();
        await serving;
    }
}
