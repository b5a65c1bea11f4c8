using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Stratus.Network.Tests;

/// <summary>A tenant never sees or changes another's connections, nor runs their checks, nor selects them.</summary>
[Collection(NetworkCollection.Name)]
public sealed class TenantIsolationTests(NetworkHosts hosts)
{
    [Theory]
    [MemberData(nameof(NetworkHosts.Providers), MemberType = typeof(NetworkHosts))]
    public async Task TenantA_CannotReachTenantBsConnection(string provider)
    {
        var host = hosts.Host(provider);
        using var a = await host.CreateTenantAsync();
        using var b = await host.CreateTenantAsync();
        var id = (await b.CreateAsync()).GetProperty("id").GetGuid();
        var path = $"{TestTenant.Path}/{id}";

        await Problem.AssertAsync(await a.Admin.GetAsync(path), HttpStatusCode.NotFound);
        await Problem.AssertAsync(await a.Admin.PatchAsJsonAsync(path, new { displayName = "Taken" }), HttpStatusCode.NotFound);
        await Problem.AssertAsync(await a.Admin.DeleteAsync(path), HttpStatusCode.NotFound);
        await Problem.AssertAsync(await a.Admin.PostAsync($"{path}/runHealthChecks", null), HttpStatusCode.NotFound);
        await Problem.AssertAsync(await a.Admin.GetAsync($"{path}/healthCheckRuns"), HttpStatusCode.NotFound);
        Assert.Equal(0, await a.CountAsync());
        var selection = await a.Admin.PostAsJsonAsync("/api/v1/networkConnectionSelections", new { connectionIds = new[] { id.ToString() } });
        var chosen = await selection.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(JsonValueKind.Null, chosen.GetProperty("connectionId").ValueKind);
        Assert.Null(chosen.GetProperty("skipped")[0].GetProperty("displayName").GetString());

        var kept = await b.GetAsync(id);
        Assert.Equal("Corp A", kept.GetProperty("displayName").GetString());
        Assert.Single((await b.RunsAsync(id)).EnumerateArray());
    }

    [Theory]
    [MemberData(nameof(NetworkHosts.Providers), MemberType = typeof(NetworkHosts))]
    public async Task AUser_WhoIsNoAdministrator_IsRefused(string provider)
    {
        var host = hosts.Host(provider);
        using var tenant = await host.CreateTenantAsync();
        var created = await tenant.Admin.PostAsJsonAsync("/api/v1/users", new
        {
            userPrincipalName = "ada@" + (await tenant.Admin.GetFromJsonAsync<JsonElement>("/api/v1/users")).GetProperty("value")[0]
                .GetProperty("userPrincipalName").GetString()!.Split('@')[1],
            displayName = "Ada",
            passwordProfile = new { password = "user-password-123" },
        });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var upn = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("userPrincipalName").GetString()!;
        using var user = await host.Process.SignedInClientAsync(upn, "user-password-123");

        Assert.Equal(HttpStatusCode.Forbidden, (await user.PostAsJsonAsync(TestTenant.Path, tenant.Body())).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await user.GetAsync(TestTenant.Path)).StatusCode);
        Assert.Equal(0, await tenant.CountAsync());
    }
}
