using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Stratus.Identity.Tests;

[Collection(IdentityCollection.Name)]
public sealed class DirectoryEventsTests(IdentityHosts hosts)
{
    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task EveryChange_PublishesOneEvent_InTenantSequence(string provider)
    {
        using var tenant = await hosts.CreateTenantAsync(provider);
        var quinn = await tenant.CreateUserAsync("quinn");
        var group = await tenant.CreateGroupAsync("Finance");
        await tenant.SetSeatsAsync(Plans.Small, 3);
        await tenant.Admin.PostAsJsonAsync($"/api/v1/groups/{group}/members", new { id = quinn });
        await tenant.Admin.PostAsJsonAsync($"/api/v1/users/{quinn}/assignLicense", new { addLicenses = new[] { new { skuId = Plans.Small } } });
        await tenant.Admin.PatchAsJsonAsync($"/api/v1/users/{quinn}", new { displayName = "Quinn Q." });
        await tenant.Admin.PatchAsJsonAsync($"/api/v1/users/{quinn}", new { accountEnabled = false });
        await tenant.Admin.PostAsJsonAsync($"/api/v1/users/{quinn}/assignLicense", new { removeLicenses = new[] { Plans.Small } });
        await tenant.Admin.DeleteAsync($"/api/v1/groups/{group}/members/{quinn}");
        await tenant.Admin.DeleteAsync($"/api/v1/groups/{group}");
        await tenant.Admin.DeleteAsync($"/api/v1/users/{quinn}");

        // Refused changes publish nothing.
        await tenant.Admin.PostAsJsonAsync("/api/v1/users", new { userPrincipalName = "admin@" + tenant.Domain, displayName = "dup", passwordProfile = new { password = "user-password-123" } });

        var events = await hosts.EventsAsync(provider, tenant.Id);
        Assert.Equal(
        [
            "identity.userCreated.v1",          // the first administrator
            "identity.userCreated.v1",          // quinn
            "identity.subscriptionChanged.v1",
            "identity.groupMemberAdded.v1",
            "identity.licenseAssigned.v1",
            "identity.userUpdated.v1",
            "identity.userDisabled.v1",
            "identity.licenseRemoved.v1",
            "identity.groupMemberRemoved.v1",
            "identity.groupDeleted.v1",
            "identity.userDeleted.v1",
        ], events.Select(e => e.Type));
        Assert.Equal(Enumerable.Range(1, events.Count).Select(i => (long)i), events.Select(e => e.Sequence));
        Assert.All(events.Skip(1).Where(e => e.Body.TryGetProperty("userId", out _)), e => Assert.Equal(quinn, e.Body.GetProperty("userId").GetGuid()));

        var state = await tenant.Admin.GetFromJsonAsync<JsonElement>("/api/v1/directoryState");
        Assert.Equal(events.Count, state.GetProperty("sequence").GetInt64());
    }

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task ConcurrentChanges_TakeDistinctGaplessSequenceNumbers(string provider)
    {
        using var tenant = await hosts.CreateTenantAsync(provider);
        var group = await tenant.CreateGroupAsync("Everyone");
        var users = new List<Guid>();
        for (var i = 0; i < 12; i++)
        {
            users.Add(await tenant.CreateUserAsync($"u{i}"));
        }

        var responses = await Task.WhenAll(users.Select(u => tenant.Admin.PostAsJsonAsync($"/api/v1/groups/{group}/members", new { id = u })));

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.NoContent, r.StatusCode));
        var events = await hosts.EventsAsync(provider, tenant.Id);
        Assert.Equal(Enumerable.Range(1, events.Count).Select(i => (long)i), events.Select(e => e.Sequence));
        var added = events.Where(e => e.Type == "identity.groupMemberAdded.v1").Select(e => e.Body.GetProperty("userId").GetGuid()).ToList();
        Assert.Equal(users.Order(), added.Order());
    }

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task DirectoryState_PagesUsersWithMembershipsAndLicenses(string provider)
    {
        using var tenant = await hosts.CreateTenantAsync(provider);
        var rita = await tenant.CreateUserAsync("rita");
        await tenant.CreateUserAsync("sam");
        var group = await tenant.CreateGroupAsync("Sales");
        await tenant.SetSeatsAsync(Plans.Medium, 1);
        await tenant.Admin.PostAsJsonAsync($"/api/v1/groups/{group}/members", new { id = rita });
        await tenant.Admin.PostAsJsonAsync($"/api/v1/users/{rita}/assignLicense", new { addLicenses = new[] { new { skuId = Plans.Medium } } });

        var all = new List<JsonElement>();
        for (var skip = 0; ; skip += 2)
        {
            var page = await tenant.Admin.GetFromJsonAsync<JsonElement>($"/api/v1/directoryState?$top=2&$skip={skip}");
            Assert.Equal(3, page.GetProperty("totalCount").GetInt32());
            all.AddRange(page.GetProperty("value").EnumerateArray());
            if (page.GetProperty("value").GetArrayLength() < 2)
            {
                break;
            }
        }

        Assert.Equal(3, all.Count);
        var ritaState = all.Single(u => u.GetProperty("userId").GetGuid() == rita);
        Assert.Equal(group, ritaState.GetProperty("groupIds")[0].GetGuid());
        Assert.Equal(Plans.Medium, ritaState.GetProperty("skuIds")[0].GetGuid());
    }
}
