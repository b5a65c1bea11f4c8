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
        await using var controlPlane = new ScriptedControlPlane((hostId, request) => request == 1
            ? "null"
            : $$"""{"hostId":"{{hostId}}","version":7,"vms":[],"operations":[]}""");
        var options = controlPlane.AgentOptions(host.DataPath, "pass-failure-host", TimeSpan.FromMilliseconds(200));
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
}
