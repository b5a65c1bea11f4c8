using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Stratus.Network.Tests;

/// <summary>
/// Runs of a connection's checks, with compute's reports published by the tests (standing in for compute, whose side
/// is another part of issue 20) through the real outbox relay and queue.
/// </summary>
[Collection(NetworkCollection.Name)]
public sealed class HealthCheckRunTests(NetworkHosts hosts)
{
    [Theory]
    [MemberData(nameof(NetworkHosts.Providers), MemberType = typeof(NetworkHosts))]
    public async Task Run_AggregatesEveryHostsReport_WorstPerCheck_NamingTheHosts(string provider)
    {
        var host = hosts.Host(provider);
        using var tenant = await host.CreateTenantAsync();
        var id = (await tenant.CreateAsync()).GetProperty("id").GetGuid();
        var run = await tenant.RunningRunAsync(id);

        await host.ReportAsCompute(Checks.Report(id, run, "host-a", host.Region, hostCount: 2));
        await host.ReportAsCompute(Checks.Report(id, run, "host-b", host.Region, hostCount: 2, failing: "gatewayReachable"));

        var completed = await tenant.CompletedRunAsync(id, run);
        Assert.Equal("failed", completed.GetProperty("status").GetString());
        Assert.Equal(["host-a", "host-b"], completed.GetProperty("hostsReported").EnumerateArray().Select(h => h.GetString()).Order());
        var connection = await tenant.GetAsync(id);
        Assert.Equal("failed", connection.GetProperty("healthCheckStatus").GetString());
        var checks = connection.GetProperty("healthCheckStatusDetail").GetProperty("healthChecks").EnumerateArray().ToDictionary(c => c.GetProperty("displayName").GetString()!);
        Assert.Equal([.. Checks.HostChecks, "addressSpace", "hostsReporting"], checks.Keys);
        var gateway = checks["gatewayReachable"];
        Assert.Equal("failed", gateway.GetProperty("status").GetString());
        Assert.Equal("gatewayUnreachable", gateway.GetProperty("errorType").GetString());
        Assert.Contains("host-b", gateway.GetProperty("additionalDetails").GetString(), StringComparison.Ordinal);
        Assert.DoesNotContain("host-a", gateway.GetProperty("additionalDetails").GetString(), StringComparison.Ordinal);
        Assert.Equal("passed", checks["uplinkExists"].GetProperty("status").GetString());
        Assert.Contains("host-a, host-b", checks["uplinkExists"].GetProperty("additionalDetails").GetString(), StringComparison.Ordinal);
        Assert.Equal(20, checks["uplinkExists"].GetProperty("durationMs").GetInt64());
        Assert.Equal("passed", checks["hostsReporting"].GetProperty("status").GetString());
        // 256 addresses less network, broadcast, gateway and 2 hosts' service addresses; the Cloud PC count is provisioning's.
        Assert.Contains("251 of 256", checks["addressSpace"].GetProperty("additionalDetails").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(NetworkHosts.Providers), MemberType = typeof(NetworkHosts))]
    public async Task Run_AtItsDeadline_CompletesWithHostDidNotReport(string provider)
    {
        var host = hosts.Host(provider);
        using var tenant = await host.CreateTenantAsync();
        var id = (await tenant.CreateAsync()).GetProperty("id").GetGuid();
        var run = await tenant.RunningRunAsync(id);

        await host.ReportAsCompute(Checks.Report(id, run, "host-a", host.Region, hostCount: 2));

        var completed = await tenant.CompletedRunAsync(id, run);
        Assert.Equal("failed", completed.GetProperty("status").GetString());
        var reporting = completed.GetProperty("detail").GetProperty("healthChecks").EnumerateArray().Single(c => c.GetProperty("displayName").GetString() == "hostsReporting");
        Assert.Equal("hostDidNotReport", reporting.GetProperty("errorType").GetString());
        Assert.Contains("1 of 2 hosts did not report", reporting.GetProperty("additionalDetails").GetString(), StringComparison.Ordinal);
        Assert.True(completed.GetProperty("endDateTime").GetDateTimeOffset() >= completed.GetProperty("deadline").GetDateTimeOffset());
    }

    [Theory]
    [MemberData(nameof(NetworkHosts.Providers), MemberType = typeof(NetworkHosts))]
    public async Task RunHealthChecks_Returns202_WithTheRun_InTheHistoryNewestFirst(string provider)
    {
        var host = hosts.Host(provider);
        using var tenant = await host.CreateTenantAsync();
        var id = (await tenant.CreateAsync()).GetProperty("id").GetGuid();
        var first = await tenant.RunningRunAsync(id);
        await host.ReportAsCompute(Checks.Report(id, first, "host-a", host.Region, hostCount: 1));
        await tenant.CompletedRunAsync(id, first);

        var response = await tenant.Admin.PostAsync($"{TestTenant.Path}/{id}/runHealthChecks", null);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var run = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
        var runs = await tenant.RunsAsync(id);
        Assert.Equal(run, runs[0].GetProperty("id").GetGuid());
        Assert.Contains(runs.EnumerateArray(), r => r.GetProperty("id").GetGuid() == first);
        Assert.Equal("running", (await tenant.GetAsync(id)).GetProperty("healthCheckStatus").GetString());
        Assert.Contains("network.healthCheckRequested.v1", await host.EventsAsync(run));
    }

    [Theory]
    [MemberData(nameof(NetworkHosts.Providers), MemberType = typeof(NetworkHosts))]
    public async Task Scheduler_RequestsARun_OnceTheIntervalPassed(string provider)
    {
        var host = hosts.Host(provider);
        using var tenant = await host.CreateTenantAsync();
        var id = (await tenant.CreateAsync()).GetProperty("id").GetGuid();
        var first = await tenant.RunningRunAsync(id);
        await host.ReportAsCompute(Checks.Report(id, first, "host-a", host.Region, hostCount: 1));
        await tenant.CompletedRunAsync(id, first);

        var scheduled = await Eventually.UntilAsync(() => tenant.RunsAsync(id),
            runs => runs.EnumerateArray().Any(r => r.GetProperty("requestedBy").GetString() == "scheduler"), "a run requested by the scheduler");

        var run = scheduled.EnumerateArray().First(r => r.GetProperty("requestedBy").GetString() == "scheduler");
        var created = scheduled.EnumerateArray().Single(r => r.GetProperty("id").GetGuid() == first);
        Assert.True(run.GetProperty("requestedDateTime").GetDateTimeOffset() - created.GetProperty("requestedDateTime").GetDateTimeOffset() >= NetworkHosts.CheckInterval);
    }

    [Theory]
    [MemberData(nameof(NetworkHosts.Providers), MemberType = typeof(NetworkHosts))]
    public async Task ReportWithoutRun_SetsTheLatestStatus(string provider)
    {
        var host = hosts.Host(provider);
        using var tenant = await host.CreateTenantAsync();
        var id = (await tenant.CreateAsync()).GetProperty("id").GetGuid();
        var first = await tenant.RunningRunAsync(id);
        await host.ReportAsCompute(Checks.Report(id, first, "host-a", host.Region, hostCount: 1));
        await tenant.CompletedRunAsync(id, first);

        // An agent's first check after realizing the connection, outside any run.
        await host.ReportAsCompute(Checks.Report(id, null, "host-a", host.Region, hostCount: 1, failing: "dnsResolution"));

        var connection = await Eventually.UntilAsync(() => tenant.GetAsync(id), c => c.GetProperty("healthCheckStatus").GetString() is "failed" or "running",
            "the run-less report to set the status");
        if (connection.GetProperty("healthCheckStatus").GetString() == "failed")
        {
            var dns = connection.GetProperty("healthCheckStatusDetail").GetProperty("healthChecks").EnumerateArray().Single(c => c.GetProperty("displayName").GetString() == "dnsResolution");
            Assert.Equal("failed", dns.GetProperty("status").GetString());
        }
        else
        {
            // The scheduler's next run started first; a run-less report then waits for that run, which says more.
            Assert.Contains((await tenant.RunsAsync(id)).EnumerateArray(), r => r.GetProperty("requestedBy").GetString() == "scheduler");
        }
    }
}

/// <summary>Compute's reports as the tests stand in for it.</summary>
public static class Checks
{
    public static readonly string[] HostChecks = ["uplinkExists", "bridgeAndDhcpRunning", "mtuConsistent", "gatewayReachable", "dnsResolution", "endpointConnectivity"];

    private static readonly Dictionary<string, string> Errors = new()
    {
        ["uplinkExists"] = "uplinkInterfaceNotFound",
        ["bridgeAndDhcpRunning"] = "bridgeNotRunning",
        ["mtuConsistent"] = "mtuMismatch",
        ["gatewayReachable"] = "gatewayUnreachable",
        ["dnsResolution"] = "dnsServerUnreachable",
        ["endpointConnectivity"] = "endpointUnreachable",
    };

    public static NetworkChecksReported Report(Guid connection, Guid? run, string hostName, string region, int hostCount, string? failing = null)
    {
        var start = TimeProvider.System.GetUtcNow();
        var checks = HostChecks.Select(name => new NetworkCheckResult(name, name == failing ? "failed" : "passed", name == failing ? Errors[name] : null,
            name == failing ? "Fix it." : null, name == failing ? $"{name} failed on {hostName}" : null, start, start.AddMilliseconds(20))).ToList();
        return new NetworkChecksReported(connection, run, GuidOf(hostName), hostName, region, hostCount, true, null, checks, start);
    }

    private static Guid GuidOf(string name) => new(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(name)).AsSpan(0, 16));
}
