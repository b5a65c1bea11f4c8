using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Stratus.Network.Tests;

/// <summary>The public resource as the contract gives it: create, read, change, delete, and the events and audit records they publish.</summary>
[Collection(NetworkCollection.Name)]
public sealed class ConnectionsApiTests(NetworkHosts hosts)
{
    [Theory]
    [MemberData(nameof(NetworkHosts.Providers), MemberType = typeof(NetworkHosts))]
    public async Task Create_Valid_Returns201_InTheContractsShape_AndStartsItsChecks(string provider)
    {
        var host = hosts.Host(provider);
        using var tenant = await host.CreateTenantAsync();

        var created = await tenant.CreateAsync();

        var id = created.GetProperty("id").GetGuid();
        Assert.Equal("Corp A", created.GetProperty("displayName").GetString());
        Assert.Equal(host.Region, created.GetProperty("regionName").GetString());
        Assert.Equal("custom", created.GetProperty("connectionType").GetString());
        Assert.Equal("10.20.0.0/24", created.GetProperty("subnet").GetString());
        Assert.Equal("10.20.0.1", created.GetProperty("gateway").GetString());
        Assert.Equal(1500, created.GetProperty("mtu").GetInt32());
        var uplink = created.GetProperty("uplink");
        Assert.Equal("vlan", uplink.GetProperty("kind").GetString());
        Assert.Equal("eth1", uplink.GetProperty("interface").GetString());
        Assert.Equal(120, uplink.GetProperty("vlanId").GetInt32());
        Assert.Equal(JsonValueKind.Null, uplink.GetProperty("vxlanId").ValueKind);
        Assert.Equal("10.20.0.53", created.GetProperty("dnsServers")[0].GetString());
        Assert.Equal("corp.example", created.GetProperty("dnsSearchDomain").GetString());
        Assert.Equal("intranet.corp.example", created.GetProperty("dnsNamesToResolve")[0].GetString());
        Assert.Equal("intranet.corp.example:443", created.GetProperty("requiredEndpoints")[0].GetString());
        Assert.False(created.GetProperty("inUse").GetBoolean());
        Assert.Equal("running", created.GetProperty("healthCheckStatus").GetString());
        Assert.True(created.TryGetProperty("createdDateTime", out _) && created.TryGetProperty("lastModifiedDateTime", out _));

        var run = Assert.Single((await tenant.RunsAsync(id)).EnumerateArray());
        Assert.Equal("created", run.GetProperty("requestedBy").GetString());
        var events = await host.EventsAsync(id);
        Assert.Contains("network.connectionUpserted.v1", events);
        Assert.Contains("network.healthCheckRequested.v1", events);
        Assert.Contains("platform.auditRecorded.v1", events);
        Assert.Equal(id, (await tenant.GetAsync(id)).GetProperty("id").GetGuid());
    }

    public static TheoryData<string, string, string> BadInputs()
    {
        var data = new TheoryData<string, string, string>();
        foreach (var provider in new[] { "sqlite", "postgres" })
        {
            foreach (var (mutation, field) in new[]
            {
                ("subnet=10.20.0/24", "subnet"), ("subnet=10.20.0.5/24", "subnet"), ("subnet=fd00::/64", "subnet"), ("subnet=10.0.0.0/31", "subnet"),
                ("gateway=10.30.0.1", "gateway"), ("gateway=10.20.0.0", "gateway"), ("gateway=10.20.0.255", "gateway"), ("gateway=nope", "gateway"),
                ("uplink.kind=bond", "uplink.kind"), ("uplink.interface=eth 1", "uplink.interface"), ("uplink.interface=averyveryverylongname", "uplink.interface"),
                ("uplink.vlanId=0", "uplink.vlanId"), ("uplink.vlanId=4095", "uplink.vlanId"),
                ("vxlan:uplink.vxlanId=16777216", "uplink.vxlanId"), ("vxlan:uplink.vxlanRemote=", "uplink.vxlanRemote"),
                ("mtu=575", "mtu"), ("mtu=9001", "mtu"), ("dnsServers=dns.corp", "dnsServers"), ("requiredEndpoints=intranet.corp.example", "requiredEndpoints"),
                ("requiredEndpoints=intranet:70000", "requiredEndpoints"), ("regionName=mars-1", "regionName"), ("displayName=", "displayName"),
                ("connectionType=hosted", "connectionType"),
            })
            {
                data.Add(provider, mutation, field);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(BadInputs))]
    public async Task Create_BadInput_Returns400_NamingTheField_AndWritesNothing(string provider, string mutation, string field)
    {
        using var tenant = await hosts.Host(provider).CreateTenantAsync();
        var body = tenant.Body();
        var uplink = (Dictionary<string, object?>)body["uplink"]!;
        if (mutation.StartsWith("vxlan:", StringComparison.Ordinal))
        {
            uplink.Clear();
            uplink["kind"] = "vxlan";
            uplink["interface"] = "eth1";
            uplink["vxlanId"] = 5000;
            uplink["vxlanRemote"] = "192.0.2.10";
            mutation = mutation["vxlan:".Length..];
        }

        var (path, value) = (mutation[..mutation.IndexOf('=', StringComparison.Ordinal)], mutation[(mutation.IndexOf('=', StringComparison.Ordinal) + 1)..]);
        var target = path.StartsWith("uplink.", StringComparison.Ordinal) ? uplink : body;
        var key = path.StartsWith("uplink.", StringComparison.Ordinal) ? path["uplink.".Length..] : path;
        target[key] = key switch
        {
            "mtu" or "vlanId" or "vxlanId" => int.Parse(value, System.Globalization.CultureInfo.InvariantCulture),
            "dnsServers" or "requiredEndpoints" => new[] { value },
            _ => value.Length == 0 ? null : value,
        };

        var refusal = await Problem.AssertAsync(await tenant.Admin.PostAsJsonAsync(TestTenant.Path, body), HttpStatusCode.BadRequest);

        Assert.True(refusal.GetProperty("errors").TryGetProperty(field, out var messages), $"{mutation}: no error for '{field}' in {refusal}");
        Assert.NotEmpty(messages[0].GetString()!);
        Assert.Equal(0, await tenant.CountAsync());
    }

    [Theory]
    [MemberData(nameof(NetworkHosts.Providers), MemberType = typeof(NetworkHosts))]
    public async Task Create_OverlappingSubnet_Returns400_NamingTheOther_ButAnotherTenantMayUseIt(string provider)
    {
        var host = hosts.Host(provider);
        using var tenant = await host.CreateTenantAsync();
        using var other = await host.CreateTenantAsync();
        await tenant.CreateAsync(tenant.Body("10.20.0.0/16", "10.20.0.1", "Wide"));

        var refusal = await Problem.AssertAsync(await tenant.Admin.PostAsJsonAsync(TestTenant.Path, tenant.Body("10.20.5.0/24", "10.20.5.1")), HttpStatusCode.BadRequest);

        Assert.Contains("'Wide'", refusal.GetProperty("errors").GetProperty("subnet")[0].GetString(), StringComparison.Ordinal);
        Assert.Equal(1, await tenant.CountAsync());
        await other.CreateAsync(other.Body("10.20.5.0/24", "10.20.5.1"));
    }

    [Theory]
    [MemberData(nameof(NetworkHosts.Providers), MemberType = typeof(NetworkHosts))]
    public async Task Create_BeyondTenPerTenant_Returns409(string provider)
    {
        using var tenant = await hosts.Host(provider).CreateTenantAsync();
        for (var i = 0; i < 10; i++)
        {
            await tenant.CreateAsync(tenant.Body($"10.{i}.0.0/24", $"10.{i}.0.1", $"Net {i}"));
        }

        var refusal = await Problem.AssertAsync(await tenant.Admin.PostAsJsonAsync(TestTenant.Path, tenant.Body("10.99.0.0/24", "10.99.0.1")), HttpStatusCode.Conflict);

        Assert.Contains("at most 10", refusal.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(10, await tenant.CountAsync());
        var page = await tenant.Admin.GetFromJsonAsync<JsonElement>($"{TestTenant.Path}?$top=3&$skip=9");
        Assert.Single(page.GetProperty("value").EnumerateArray());
    }

    [Theory]
    [MemberData(nameof(NetworkHosts.Providers), MemberType = typeof(NetworkHosts))]
    public async Task Patch_ChangesTheSettings_AndRefusesBadOnesWithoutWriting(string provider)
    {
        var host = hosts.Host(provider);
        using var tenant = await host.CreateTenantAsync();
        var id = (await tenant.CreateAsync()).GetProperty("id").GetGuid();

        var changed = await tenant.Admin.PatchAsJsonAsync($"{TestTenant.Path}/{id}", new { displayName = "Corp B", dnsServers = new[] { "10.20.0.54" }, mtu = 1400 });
        Assert.True(changed.IsSuccessStatusCode, await changed.Content.ReadAsStringAsync());

        var read = await tenant.GetAsync(id);
        Assert.Equal("Corp B", read.GetProperty("displayName").GetString());
        Assert.Equal("10.20.0.54", read.GetProperty("dnsServers")[0].GetString());
        Assert.Equal(1400, read.GetProperty("mtu").GetInt32());
        Assert.Equal(2, (await host.EventsAsync(id)).Count(e => e == "network.connectionUpserted.v1"));

        (await Problem.AssertAsync(await tenant.Admin.PatchAsJsonAsync($"{TestTenant.Path}/{id}", new { regionName = "local-2" }), HttpStatusCode.BadRequest))
            .GetProperty("errors").GetProperty("regionName");
        (await Problem.AssertAsync(await tenant.Admin.PatchAsJsonAsync($"{TestTenant.Path}/{id}", new { gateway = "10.99.0.1", displayName = "Never" }), HttpStatusCode.BadRequest))
            .GetProperty("errors").GetProperty("gateway");
        await Problem.AssertAsync(await tenant.Admin.PatchAsync($"{TestTenant.Path}/{id}", null), HttpStatusCode.BadRequest);
        Assert.Equal("Corp B", (await tenant.GetAsync(id)).GetProperty("displayName").GetString());
    }

    [Theory]
    [MemberData(nameof(NetworkHosts.Providers), MemberType = typeof(NetworkHosts))]
    public async Task Delete_OnlyWhenProvisioningSaysNothingUsesIt(string provider)
    {
        var host = hosts.Host(provider);
        using var tenant = await host.CreateTenantAsync();
        var id = (await tenant.CreateAsync()).GetProperty("id").GetGuid();

        var response = await tenant.Admin.DeleteAsync($"{TestTenant.Path}/{id}");

        if (provider == "postgres" || response.StatusCode == HttpStatusCode.ServiceUnavailable)
        {
            // Without provisioning's answer (not running here, or its usage endpoint not there yet) nothing is deleted blind.
            var refusal = await Problem.AssertAsync(response, HttpStatusCode.ServiceUnavailable);
            Assert.Contains("provisioning", refusal.GetProperty("detail").GetString(), StringComparison.Ordinal);
            Assert.Equal(id, (await tenant.GetAsync(id)).GetProperty("id").GetGuid());
            Assert.DoesNotContain("network.connectionDeleted.v1", await host.EventsAsync(id));
        }
        else
        {
            Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
            await Problem.AssertAsync(await tenant.Admin.GetAsync($"{TestTenant.Path}/{id}"), HttpStatusCode.NotFound);
            Assert.Contains("network.connectionDeleted.v1", await host.EventsAsync(id));
        }
    }

    [Theory]
    [MemberData(nameof(NetworkHosts.Providers), MemberType = typeof(NetworkHosts))]
    public async Task Patch_Wiring_OnlyWhenProvisioningSaysNothingUsesIt(string provider)
    {
        var host = hosts.Host(provider);
        using var tenant = await host.CreateTenantAsync();
        var id = (await tenant.CreateAsync()).GetProperty("id").GetGuid();

        var response = await tenant.Admin.PatchAsJsonAsync($"{TestTenant.Path}/{id}", new { subnet = "10.30.0.0/24", gateway = "10.30.0.1" });

        var subnet = (await tenant.GetAsync(id)).GetProperty("subnet").GetString();
        if (provider == "postgres" || response.StatusCode == HttpStatusCode.ServiceUnavailable)
        {
            // The subnet, gateway and uplink of a connection in use cannot change; without provisioning's answer they stay.
            var refusal = await Problem.AssertAsync(response, HttpStatusCode.ServiceUnavailable);
            Assert.Contains("provisioning", refusal.GetProperty("detail").GetString(), StringComparison.Ordinal);
            Assert.Equal("10.20.0.0/24", subnet);
        }
        else
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("10.30.0.0/24", subnet);
        }
    }
}
