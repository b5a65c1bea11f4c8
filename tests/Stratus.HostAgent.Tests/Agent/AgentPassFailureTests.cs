using System.Net;
using System.Text;
using Microsoft.Extensions.Logging;
using Stratus.HostAgent.Agent;
using Stratus.HostAgent.Tests.Support;
using Stratus.Testing;

namespace Stratus.HostAgent.Tests.Agent;

/// <summary>
/// An agent whose pass fails in a way that is not a network error must log it and try again, not end: an agent
/// that ended would leave its host "down" and, embedded, take the whole process with it. The counterpart is a
/// scripted control plane on 127.0.0.1 (real HTTP) that answers the first desired-state request with JSON null.
/// </summary>
public sealed class AgentPassFailureTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_pass_that_fails_is_logged_and_tried_again_and_the_agent_converges_and_keeps_reporting()
    {
        await using var host = new VmHost(output);
        await using var controlPlane = new ScriptedControlPlane(desiredVersion: 7);
        var options = new AgentOptions
        {
            ControlPlane = controlPlane.Url,
            EnrollmentToken = "enrollment-token",
            Region = "region-1",
            Zone = "region-1a",
            Name = "pass-failure-host",
            DataFolder = Path.Combine(host.DataPath, "agent"),
            ImagesFolder = Path.Combine(host.DataPath, "images"),
            HeartbeatInterval = TimeSpan.FromMilliseconds(200),
        };
        using var loggers = new TestOutputLoggerFactory(output);
        using var agent = new HostAgentService(host.Driver, options, "tcg", new HttpClient { BaseAddress = controlPlane.Url }, TimeProvider.System,
            loggers.CreateLogger<HostAgentService>());

        await agent.StartAsync(CancellationToken.None);
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (agent.ConvergedVersion != 7 && waited.Elapsed < TimeSpan.FromSeconds(30) && agent.ExecuteTask is { IsCompleted: false })
        {
            await Task.Delay(100);
        }

        Assert.False(agent.ExecuteTask!.IsCompleted, $"the agent ended: {agent.ExecuteTask.Exception?.GetBaseException().Message}");
        Assert.Equal(7, agent.ConvergedVersion);
        Assert.True(controlPlane.DesiredStateRequests >= 2, $"{controlPlane.DesiredStateRequests} desired-state requests");

        // Heartbeats go on after the failed pass.
        var reports = controlPlane.Reports;
        await Task.Delay(TimeSpan.FromSeconds(2));
        Assert.True(controlPlane.Reports >= reports + 3, $"{controlPlane.Reports - reports} reports in 2 s with a 200 ms heartbeat");

        await agent.StopAsync(CancellationToken.None);
    }

    /// <summary>Answers the agent's protocol; the first desired state is JSON null (a pass that cannot run).</summary>
    private sealed class ScriptedControlPlane : IAsyncDisposable
    {
        private readonly HttpListener listener = new();
        private readonly Task serving;
        private readonly long desiredVersion;
        private readonly Guid hostId = Guid.CreateVersion7();
        private int desiredStateRequests;
        private int reports;

        public ScriptedControlPlane(long desiredVersion)
        {
            this.desiredVersion = desiredVersion;
            var port = FreePort.Next();
            Url = new Uri($"http://127.0.0.1:{port}/");
            listener.Prefixes.Add(Url.ToString());
            listener.Start();
            serving = ServeAsync();
        }

        public Uri Url { get; }

        public int DesiredStateRequests => Volatile.Read(ref desiredStateRequests);

        public int Reports => Volatile.Read(ref reports);

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

                var path = context.Request.Url!.AbsolutePath;
                if (path == "/api/v1/agent/report")
                {
                    Interlocked.Increment(ref reports);
                }

                var (status, body) = path switch
                {
                    "/api/v1/agent/enroll" => (200, $$"""{"hostId":"{{hostId}}","agentToken":"agent-token","region":"region-1","zone":"region-1a"}"""),
                    "/api/v1/agent/desiredState" => Interlocked.Increment(ref desiredStateRequests) == 1
                        ? (200, "null")
                        : (200, $$"""{"hostId":"{{hostId}}","version":{{desiredVersion}},"vms":[],"operations":[]}"""),
                    "/api/v1/agent/report" => (204, ""),
                    _ => (404, ""),
                };
                context.Response.StatusCode = status;
                context.Response.ContentType = "application/json";
                var bytes = Encoding.UTF8.GetBytes(body);
                await context.Response.OutputStream.WriteAsync(bytes);
                context.Response.Close();
            }
        }

        public async ValueTask DisposeAsync()
        {
            listener.Stop();
            listener.Close();
            await serving;
        }
    }
}
