using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Stratus.Network.Tests;

/// <summary>Prioritized failover: the first usable entry of a policy's list, and why each before it was skipped.</summary>
[Collection(NetworkCollection.Name)]
public sealed class SelectionTests(NetworkHosts hosts)
{
    private const string Selections = "/api/v1/networkConnectionSelections";

    [Theory]
    [MemberData(nameof(NetworkHosts.Providers), MemberType = typeof(NetworkHosts))]
    public async Task Selection_SkipsTheUnhealthyOne_WithItsReason_AndTakesTheNext(string provider)
    {
        var host = hosts.Host(provider);
        using var tenant = await host.CreateTenantAsync();
        var broken = await CheckedAsync(host, tenant, "10.20.0.0/24", "10.20.0.1", "Broken", failing: "gatewayReachable");
        var healthy = await CheckedAsync(host, tenant, "10.21.0.0/24", "10.21.0.1", "Healthy", failing: null);

        var chosen = await SelectAsync(tenant, broken.ToString(), healthy.ToString(), "hosted");

        Assert.Equal(healthy.ToString(), chosen.GetProperty("connectionId").GetString());
        Assert.Equal(host.Region, chosen.GetProperty("regionName").GetString());
        var skipped = Assert.Single(chosen.GetProperty("skipped").EnumerateArray());
        Assert.Equal(broken.ToString(), skipped.GetProperty("connectionId").GetString());
        Assert.Equal("Broken", skipped.GetProperty("displayName").GetString());
        Assert.Equal("failed", skipped.GetProperty("healthCheckStatus").GetString());
        Assert.Contains("gatewayReachable", skipped.GetProperty("reason").GetString(), StringComparison.Ordinal);

        var hosted = await SelectAsync(tenant, broken.ToString(), "hosted", healthy.ToString());
        Assert.Equal("hosted", hosted.GetProperty("connectionId").GetString());
        Assert.Equal(JsonValueKind.Null, hosted.GetProperty("regionName").ValueKind);

        var none = await SelectAsync(tenant, broken.ToString());
        Assert.Equal(JsonValueKind.Null, none.GetProperty("connectionId").ValueKind);
        Assert.Single(none.GetProperty("skipped").EnumerateArray());

        Assert.Equal("hosted", (await SelectAsync(tenant)).GetProperty("connectionId").GetString());
    }

    [Theory]
    [MemberData(nameof(NetworkHosts.Providers), MemberType = typeof(NetworkHosts))]
    public async Task Selection_NeverChecked_IsSkipped_AndAMalformedEntryIs400(string provider)
    {
        var host = hosts.Host(provider);
        using var tenant = await host.CreateTenantAsync();
        var fresh = (await tenant.CreateAsync()).GetProperty("id").GetGuid();

        var chosen = await SelectAsync(tenant, fresh.ToString(), "hosted");

        Assert.Equal("hosted", chosen.GetProperty("connectionId").GetString());
        Assert.Contains("not completed", Assert.Single(chosen.GetProperty("skipped").EnumerateArray()).GetProperty("reason").GetString(), StringComparison.Ordinal);
        var refusal = await Problem.AssertAsync(await tenant.Admin.PostAsJsonAsync(Selections, new { connectionIds = new[] { "corp" } }), HttpStatusCode.BadRequest);
        Assert.Contains("'corp'", refusal.GetProperty("errors").GetProperty("connectionIds")[0].GetString(), StringComparison.Ordinal);
        await Problem.AssertAsync(await tenant.Admin.PostAsJsonAsync(Selections, new { }), HttpStatusCode.BadRequest);
    }

    /// <summary>A connection whose creation's run completed with one host's report (failing one check, or none).</summary>
    private static async Task<Guid> CheckedAsync(NetworkHost host, TestTenant tenant, string subnet, string gateway, string name, string? failing)
    {
        var id = (await tenant.CreateAsync(tenant.Body(subnet, gateway, name))).GetProperty("id").GetGuid();
        var run = await tenant.RunningRunAsync(id);
        await host.ReportAsCompute(Checks.Report(id, run, "host-a", host.Region, hostCount: 1, failing: failing));
        await tenant.CompletedRunAsync(id, run);
        return id;
    }

    private static async Task<JsonElement> SelectAsync(TestTenant tenant, params string[] connectionIds)
    {
        var response = await tenant.Admin.PostAsJsonAsync(Selections, new { connectionIds });
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement;
    }
}
