using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Stratus.Identity.Scim.Tests.Support;
using static Stratus.Identity.Scim.Tests.Support.Scim;

namespace Stratus.Identity.Scim.Tests;

/// <summary>Tenant A's SCIM token never reads or changes a user or group of tenant B: one case per SCIM endpoint.</summary>
[Collection(ScimCollection.Name)]
public sealed class ScimIsolationTests(ScimHosts hosts)
{
    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (var provider in new[] { ScimHosts.Sqlite, ScimHosts.Postgres })
        {
            foreach (var endpoint in new[]
            {
                "GET Users/{id}", "GET Users?filter", "GET Users", "PUT Users/{id}", "PATCH Users/{id}", "DELETE Users/{id}", "POST Users",
                "GET Groups/{id}", "GET Groups?filter", "GET Groups", "PUT Groups/{id}", "PATCH Groups/{id}", "DELETE Groups/{id}",
                "PATCH Groups/{id} with B's user", "POST Groups with B's user",
            })
            {
                data.Add(provider, endpoint);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task ScimTokenOfTenantA_CannotReachTenantB(string provider, string endpoint)
    {
        var world = await hosts.SharedAsync("isolation:" + provider, () => World.CreateAsync(hosts, provider));
        var (a, b) = (world.A, world.B);
        var bUser = $"/scim/v2/Users/{world.BUser}";
        var bGroup = $"/scim/v2/Groups/{world.BGroup}";

        switch (endpoint)
        {
            case "GET Users/{id}":
                AssertError(await a.Scim.ScimGetAsync(bUser), HttpStatusCode.NotFound, null);
                break;
            case "GET Users?filter":
                AssertList(await a.Scim.ScimGetAsync($"/scim/v2/Users?{Filter($"userName eq \"{b.Upn("victim")}\"")}"), 0);
                AssertList(await a.Scim.ScimGetAsync($"/scim/v2/Users?{Filter($"id eq \"{world.BUser}\"")}"), 0);
                break;
            case "GET Users":
                var users = AssertList(await a.Scim.ScimGetAsync("/scim/v2/Users?count=200"), 2);
                Assert.DoesNotContain(users, u => u.GetProperty("id").GetString() == world.BUser);
                break;
            case "PUT Users/{id}":
                AssertError(await a.Scim.ScimPutAsync(bUser, User(b.Upn("victim"), "Taken over")), HttpStatusCode.NotFound, null);
                break;
            case "PATCH Users/{id}":
                AssertError(await a.Scim.ScimPatchAsync(bUser, Patch("""{"op":"Replace","path":"active","value":"False"}""")), HttpStatusCode.NotFound, null);
                break;
            case "DELETE Users/{id}":
                AssertError(await a.Scim.ScimDeleteAsync(bUser), HttpStatusCode.NotFound, null);
                break;
            case "POST Users":
                AssertError(await a.Scim.ScimPostAsync("/scim/v2/Users", User(b.Upn("planted"))), HttpStatusCode.BadRequest, "invalidValue");
                break;
            case "GET Groups/{id}":
                AssertError(await a.Scim.ScimGetAsync(bGroup), HttpStatusCode.NotFound, null);
                break;
            case "GET Groups?filter":
                AssertList(await a.Scim.ScimGetAsync($"/scim/v2/Groups?{Filter("displayName eq \"B group\"")}"), 0);
                break;
            case "GET Groups":
                var groups = AssertList(await a.Scim.ScimGetAsync("/scim/v2/Groups"), 1);
                Assert.DoesNotContain(groups, g => g.GetProperty("id").GetString() == world.BGroup);
                Assert.DoesNotContain(world.BUser, groups.Single().GetRawText(), StringComparison.Ordinal);
                break;
            case "PUT Groups/{id}":
                AssertError(await a.Scim.ScimPutAsync(bGroup, Group("Taken over", world.AUser)), HttpStatusCode.NotFound, null);
                break;
            case "PATCH Groups/{id}":
                AssertError(await a.Scim.ScimPatchAsync(bGroup, Patch("""{"op":"remove","path":"members"}""")), HttpStatusCode.NotFound, null);
                break;
            case "DELETE Groups/{id}":
                AssertError(await a.Scim.ScimDeleteAsync(bGroup), HttpStatusCode.NotFound, null);
                break;
            case "PATCH Groups/{id} with B's user":
                AssertError(await a.Scim.ScimPatchAsync($"/scim/v2/Groups/{world.AGroup}", Patch($$"""{"op":"add","path":"members","value":[{"value":"{{world.BUser}}"}]}""")),
                    HttpStatusCode.BadRequest, "invalidValue");
                break;
            case "POST Groups with B's user":
                AssertError(await a.Scim.ScimPostAsync("/scim/v2/Groups", Group("Planted", world.BUser)), HttpStatusCode.BadRequest, "invalidValue");
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(endpoint), endpoint, null);
        }

        // Tenant B is as it was, and so is A's group.
        var victim = (await b.ApiUserAsync(world.BUser))!.Value;
        Assert.True(victim.GetProperty("accountEnabled").GetBoolean());
        Assert.Equal("victim", victim.GetProperty("displayName").GetString());
        Assert.Equal([world.BUser], await b.ApiMembersAsync(world.BGroup));
        Assert.Equal("B group", (await b.Admin.GetFromJsonAsync<JsonElement>($"/api/v1/groups/{world.BGroup}")).GetProperty("displayName").GetString());
        Assert.Equal(world.BSequence, await b.SequenceAsync());
        Assert.Empty(await a.ApiMembersAsync(world.AGroup));
        AssertList(await a.Scim.ScimGetAsync($"/scim/v2/Users?{Filter($"userName eq \"{b.Upn("planted")}\"")}"), 0);
    }

    private sealed record World(ScimTenant A, ScimTenant B, string AUser, string AGroup, string BUser, string BGroup, long BSequence) : IDisposable
    {
        public void Dispose()
        {
            A.Dispose();
            B.Dispose();
        }

        public static async Task<World> CreateAsync(ScimHosts hosts, string provider)
        {
            var a = await hosts.CreateTenantAsync(provider, "a");
            var b = await hosts.CreateTenantAsync(provider, "b");
            var bUser = await b.CreateUserAsync("victim");
            var bGroup = await b.CreateGroupAsync("B group", bUser);
            var aUser = await a.CreateUserAsync("attacker");
            var aGroup = await a.CreateGroupAsync("A group");
            return new World(a, b, aUser, aGroup, bUser, bGroup, await b.SequenceAsync());
        }
    }
}
