using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Stratus.Identity.Tests;

/// <summary>A token of tenant A never reads or changes tenant B: one case per endpoint.</summary>
[Collection(IdentityCollection.Name)]
public sealed class TenantIsolationTests(IdentityHosts hosts) : IAsyncLifetime
{
    private readonly Dictionary<string, (TestTenant A, TestTenant B, Guid BUser, Guid BGroup, Guid AUser, Guid AGroup)> worlds = [];

    public async Task InitializeAsync()
    {
        foreach (var provider in new[] { "sqlite", "postgres" })
        {
            var a = await hosts.CreateTenantAsync(provider, "a");
            var b = await hosts.CreateTenantAsync(provider, "b");
            var bUser = await b.CreateUserAsync("victim");
            var bGroup = await b.CreateGroupAsync("B group");
            await b.SetSeatsAsync(Plans.Small, 2);
            Assert.Equal(HttpStatusCode.NoContent, (await b.Admin.PostAsJsonAsync($"/api/v1/groups/{bGroup}/members", new { id = bUser })).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await b.Admin.PostAsJsonAsync($"/api/v1/users/{bUser}/assignLicense", new { addLicenses = new[] { new { skuId = Plans.Small } } })).StatusCode);
            var aUser = await a.CreateUserAsync("attacker");
            var aGroup = await a.CreateGroupAsync("A group");
            worlds[provider] = (a, b, bUser, bGroup, aUser, aGroup);
        }
    }

    public Task DisposeAsync()
    {
        foreach (var world in worlds.Values)
        {
            world.A.Dispose();
            world.B.Dispose();
        }

        return Task.CompletedTask;
    }

    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (var provider in new[] { "sqlite", "postgres" })
        {
            foreach (var endpoint in new[]
            {
                "GET user", "PATCH user", "DELETE user", "assignLicense", "licenseDetails",
                "GET group", "PATCH group", "DELETE group", "GET members", "ADD member to B group", "ADD B user to A group", "REMOVE member",
                "ASSIGN role", "DELETE role",
            })
            {
                data.Add(provider, endpoint);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task TenantA_CannotReachTenantB(string provider, string endpoint)
    {
        var (a, b, bUser, bGroup, _, aGroup) = worlds[provider];
        var admin = a.Admin;
        var response = endpoint switch
        {
            "GET user" => await admin.GetAsync($"/api/v1/users/{bUser}"),
            "PATCH user" => await admin.PatchAsJsonAsync($"/api/v1/users/{bUser}", new { displayName = "pwned", accountEnabled = false }),
            "DELETE user" => await admin.DeleteAsync($"/api/v1/users/{bUser}"),
            "assignLicense" => await admin.PostAsJsonAsync($"/api/v1/users/{bUser}/assignLicense", new { removeLicenses = new[] { Plans.Small } }),
            "licenseDetails" => await admin.GetAsync($"/api/v1/users/{bUser}/licenseDetails"),
            "GET group" => await admin.GetAsync($"/api/v1/groups/{bGroup}"),
            "PATCH group" => await admin.PatchAsJsonAsync($"/api/v1/groups/{bGroup}", new { displayName = "pwned" }),
            "DELETE group" => await admin.DeleteAsync($"/api/v1/groups/{bGroup}"),
            "GET members" => await admin.GetAsync($"/api/v1/groups/{bGroup}/members"),
            "ADD member to B group" => await admin.PostAsJsonAsync($"/api/v1/groups/{bGroup}/members", new { id = a.AdminId }),
            "ADD B user to A group" => await admin.PostAsJsonAsync($"/api/v1/groups/{aGroup}/members", new { id = bUser }),
            "REMOVE member" => await admin.DeleteAsync($"/api/v1/groups/{bGroup}/members/{bUser}"),
            "ASSIGN role" => await admin.PostAsJsonAsync("/api/v1/roleAssignments", new { principalId = bUser, roleDefinitionId = "tenantAdministrator" }),
            "DELETE role" => await admin.DeleteAsync($"/api/v1/roleAssignments/{b.AdminId}_tenantAdministrator"),
            _ => throw new ArgumentOutOfRangeException(nameof(endpoint)),
        };

        await Problem.AssertAsync(response, HttpStatusCode.NotFound);

        // And B's data is as it was.
        var user = await b.Admin.GetFromJsonAsync<JsonElement>($"/api/v1/users/{bUser}");
        Assert.Equal("victim", user.GetProperty("displayName").GetString());
        Assert.True(user.GetProperty("accountEnabled").GetBoolean());
        Assert.Equal(1, (await b.Admin.GetFromJsonAsync<JsonElement>($"/api/v1/groups/{bGroup}/members")).GetProperty("totalCount").GetInt32());
        Assert.Single((await b.Admin.GetFromJsonAsync<JsonElement>($"/api/v1/users/{bUser}/licenseDetails")).EnumerateArray());
        Assert.Equal(1, (await b.Admin.GetFromJsonAsync<JsonElement>("/api/v1/roleAssignments")).GetProperty("totalCount").GetInt32());
    }

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task Lists_ShowOnlyTheCallersTenant(string provider)
    {
        var (a, b, bUser, bGroup, aUser, aGroup) = worlds[provider];

        var users = (await a.Admin.GetFromJsonAsync<JsonElement>("/api/v1/users")).GetProperty("value").EnumerateArray().Select(u => u.GetProperty("id").GetGuid()).ToList();
        Assert.Contains(aUser, users);
        Assert.DoesNotContain(bUser, users);
        var byName = await a.Admin.GetFromJsonAsync<JsonElement>($"/api/v1/users?$filter=userPrincipalName eq 'victim@{b.Domain}'");
        Assert.Equal(0, byName.GetProperty("totalCount").GetInt32());
        var groups = (await a.Admin.GetFromJsonAsync<JsonElement>("/api/v1/groups")).GetProperty("value").EnumerateArray().Select(g => g.GetProperty("id").GetGuid()).ToList();
        Assert.Equal([aGroup], groups);
        Assert.Empty((await a.Admin.GetFromJsonAsync<JsonElement>("/api/v1/subscribedSkus")).EnumerateArray());
        var state = await a.Admin.GetFromJsonAsync<JsonElement>("/api/v1/directoryState");
        Assert.DoesNotContain(state.GetProperty("value").EnumerateArray(), u => u.GetProperty("userId").GetGuid() == bUser);
        var roles = await a.Admin.GetFromJsonAsync<JsonElement>("/api/v1/roleAssignments");
        Assert.DoesNotContain(roles.GetProperty("value").EnumerateArray(), r => r.GetProperty("principalId").GetGuid() == b.AdminId);
        var audit = await a.Admin.GetFromJsonAsync<JsonElement>("/api/v1/auditEvents?$top=1000");
        Assert.NotEqual(0, audit.GetProperty("totalCount").GetInt32());
        Assert.DoesNotContain(bGroup.ToString(), audit.GetRawText(), StringComparison.Ordinal);
        Assert.DoesNotContain(bUser.ToString(), audit.GetRawText(), StringComparison.Ordinal);
    }
}
