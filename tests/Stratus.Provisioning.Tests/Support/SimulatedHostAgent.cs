using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Stratus.Testing;

namespace Stratus.Provisioning.Tests.Support;

/// <summary>
/// A `stratus host --driver simulated` of its own, enrolled in local-1: a machine the test can stop dead (kill -9)
/// and start again with its identity, as a host that crashed and came back. Its VMs live in its memory, so it
/// makes them again from compute's desired state when it returns.
/// </summary>
public sealed class SimulatedHostAgent : IAsyncDisposable
{
    private readonly TempFolder data = new();
    private readonly List<string> arguments;
    private Process? process;

    private SimulatedHostAgent(List<string> arguments)
    {
        this.arguments = arguments;
    }

    public string Name { get; } = "sim-" + Guid.NewGuid().ToString("N")[..8];

    /// <summary>Enrolls a new host in local-1 with a token from the operator, and starts it.</summary>
    public static async Task<SimulatedHostAgent> StartAsync(ProvisioningHost host)
    {
        var response = await host.Operator.PostAsJsonAsync("/api/v1/hosts/enrollmentTokens", new { region = "local-1" });
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        var token = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString()!;
        var agent = new SimulatedHostAgent([]);
        agent.arguments.AddRange(
        [
            "host", "--control-plane", host.Stratus.BaseAddress.ToString().TrimEnd('/'), "--enrollment-token", token, "--region", "local-1",
            "--zone", "local-1a", "--name", agent.Name, "--data", agent.data.Path, "--driver", "simulated", "--vcpus", "64", "--memory-mib", "65536", "--disk-gib", "1024",
        ]);
        agent.Start();
        return agent;
    }

    /// <summary>Starts the agent again after <see cref="Kill"/>: it keeps its identity (and ignores the used token).</summary>
    public void Start()
    {
        var start = new ProcessStartInfo(StratusProcess.BinaryPath) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        process = Process.Start(start) ?? throw new InvalidOperationException("cannot start stratus host");
        // Read and dropped: a full pipe would stop the agent.
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    /// <summary>Stops the host dead, mid-whatever: no last report.</summary>
    public async Task KillAsync()
    {
        if (process is { HasExited: false })
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }

        process?.Dispose();
        process = null;
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        data.Dispose();
    }
}
