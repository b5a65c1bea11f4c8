using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Stratus.Identity.Scim.Tests.Support;
using static Stratus.Identity.Scim.Tests.Support.Scim;

namespace Stratus.Identity.Scim.Tests;

/// <summary>
/// Whole provisioning conversations as Entra ID and Okta hold them, on SQLite and on PostgreSQL: each change
/// takes exactly one number of the tenant's directory sequence, and shows in Stratus's own API.
/// </summary>
[Collection(ScimCollection.Name)]
public sealed class ScimConversationTests(ScimHosts hosts)
{
    [Theory]
    [InlineData(ScimHosts.Sqlite)]
    [InlineData(ScimHosts.Postgres)]
    public async Task EntraConversation_ProvisionsAUser_AddsToGroup_Disables_Removes_Deletes(string provider)
    {
        using var tenant = await hosts.CreateTenantAsync(provider, "entra");
        var upn = tenant.Upn("alice");
        var sequence = await tenant.SequenceAsync();

        // Entra first looks the user up by userName.
        AssertList(await tenant.Scim.ScimGetAsync($"/scim/v2/Users?{Filter($"userName eq \"{upn}\"")}"), totalResults: 0);

        var created = await tenant.Scim.ScimPostAsync("/scim/v2/Users", EntraUser(upn, "alice-object-id", "Alice", "Smith"));
        var user = AssertStatus(created, HttpStatusCode.Created);
        var userId = created.Id();
        Assert.Equal([UserSchema], user.GetProperty("schemas").EnumerateArray().Select(s => s.GetString()));
        Assert.Equal(upn, user.GetProperty("userName").GetString());
        Assert.Equal("alice-object-id", user.GetProperty("externalId").GetString());
        Assert.True(user.GetProperty("active").GetBoolean());
        Assert.Equal("Alice", user.GetProperty("name").GetProperty("givenName").GetString());
        Assert.Equal(upn, user.GetProperty("emails")[0].GetProperty("value").GetString());
        Assert.Equal(created.Location, new Uri(user.GetProperty("meta").GetProperty("location").GetString()!));
        Assert.Equal("User", user.GetProperty("meta").GetProperty("resourceType").GetString());
        Assert.Equal(sequence + 1, await tenant.SequenceAsync());

        // Stratus's own API shows a SCIM user without a password: it cannot sign in with one.
        var apiUser = (await tenant.ApiUserAsync(userId))!.Value;
        Assert.Equal("scim", apiUser.GetProperty("creationType").GetString());
        Assert.Equal("alice-object-id", apiUser.GetProperty("externalId").GetString());
        Assert.Equal("Alice Smith", apiUser.GetProperty("displayName").GetString());
        using (var signIn = await tenant.Host.Http.PostAsJsonAsync("/api/v1/auth/token", new { userName = upn, password = "any-password-123" }))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, signIn.StatusCode);
        }

        var found = AssertList(await tenant.Scim.ScimGetAsync($"/scim/v2/Users?{Filter($"userName eq \"{upn}\"")}"), totalResults: 1);
        Assert.Equal(userId, found.Single().GetProperty("id").GetString());

        // Groups: looked up without members, created, then members added with Entra's PATCH.
        AssertList(await tenant.Scim.ScimGetAsync($"/scim/v2/Groups?excludedAttributes=members&{Filter("displayName eq \"Engineers\"")}"), totalResults: 0);
        var group = await tenant.Scim.ScimPostAsync("/scim/v2/Groups",
            $$"""{"schemas":["{{GroupSchema}}"],"externalId":"engineers-object-id","displayName":"Engineers","members":[]}""");
        AssertStatus(group, HttpStatusCode.Created);
        var groupId = group.Id();
        Assert.Equal(sequence + 1, await tenant.SequenceAsync());

        AssertStatus(await tenant.Scim.ScimPatchAsync($"/scim/v2/Groups/{groupId}",
            Patch($$"""{"op":"Add","path":"members","value":[{"value":"{{userId}}"}]}""")), HttpStatusCode.NoContent);
        Assert.Equal([userId], await tenant.ApiMembersAsync(groupId));
        Assert.Equal(sequence + 2, await tenant.SequenceAsync());
        var listed = AssertList(await tenant.Scim.ScimGetAsync($"/scim/v2/Groups?{Filter("displayName eq \"Engineers\"")}"), totalResults: 1);
        Assert.Equal(userId, listed.Single().GetProperty("members")[0].GetProperty("value").GetString());

        // Unassigning the user in Entra: active "False", as a string, with a capitalized op.
        var disabled = await tenant.Scim.ScimPatchAsync($"/scim/v2/Users/{userId}", Patch("""{"op":"Replace","path":"active","value":"False"}"""));
        Assert.False(AssertStatus(disabled, HttpStatusCode.OK).GetProperty("active").GetBoolean());
        Assert.False((await tenant.ApiUserAsync(userId))!.Value.GetProperty("accountEnabled").GetBoolean());
        Assert.Equal(sequence + 3, await tenant.SequenceAsync());

        AssertStatus(await tenant.Scim.ScimPatchAsync($"/scim/v2/Groups/{groupId}",
            Patch($$"""{"op":"Remove","path":"members","value":[{"value":"{{userId}}"}]}""")), HttpStatusCode.NoContent);
        Assert.Empty(await tenant.ApiMembersAsync(groupId));
        Assert.Equal(sequence + 4, await tenant.SequenceAsync());

        AssertStatus(await tenant.Scim.ScimDeleteAsync($"/scim/v2/Users/{userId}"), HttpStatusCode.NoContent);
        AssertError(await tenant.Scim.ScimGetAsync($"/scim/v2/Users/{userId}"), HttpStatusCode.NotFound, null);
        Assert.Null(await tenant.ApiUserAsync(userId));
        Assert.Equal(sequence + 5, await tenant.SequenceAsync());

        // One event per change, in the tenant's sequence, after the administrator's own creation.
        var events = (await tenant.EventsAsync()).Where(e => e.Sequence > sequence).ToList();
        Assert.Equal(
            ["identity.userCreated.v1", "identity.groupMemberAdded.v1", "identity.userDisabled.v1", "identity.groupMemberRemoved.v1", "identity.userDeleted.v1"],
            events.Select(e => e.Type));
        Assert.Equal(Enumerable.Range(1, 5).Select(i => sequence + i), events.Select(e => e.Sequence));
        Assert.All(events, e => Assert.Equal(userId, e.Body.GetProperty("userId").GetString()));

        // And each change is audited as done by SCIM.
        var audit = await AuditByScimAsync(tenant, 6);
        Assert.Equal(["AddGroupMember", "CreateGroup", "CreateUser", "DeleteUser", "DisableUser", "RemoveGroupMember"], audit.Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData(ScimHosts.Sqlite)]
    [InlineData(ScimHosts.Postgres)]
    public async Task OktaConversation_PathlessPatch_Put_AndGroupPush(string provider)
    {
        var tenant = await SharedTenantAsync(provider);
        var upn = tenant.Upn("bob");
        var created = await tenant.Scim.ScimPostAsync("/scim/v2/Users", $$"""
            {
              "schemas": ["{{UserSchema}}"],
              "userName": "{{upn}}",
              "name": {"givenName": "Bob", "familyName": "Jones"},
              "emails": [{"primary": true, "value": "bob@mail.example", "type": "work"}],
              "displayName": "Bob Jones",
              "locale": "en-US",
              "externalId": "00u1okta",
              "groups": [],
              "password": "ignored-password-1",
              "active": true
            }
            """);
        AssertStatus(created, HttpStatusCode.Created);
        var userId = created.Id();
        var sequence = await tenant.SequenceAsync();

        // Okta deactivates with a path-less replace.
        var deactivated = await tenant.Scim.ScimPatchAsync($"/scim/v2/Users/{userId}", Patch("""{"op":"replace","value":{"active":false}}"""));
        Assert.False(AssertStatus(deactivated, HttpStatusCode.OK).GetProperty("active").GetBoolean());
        var reactivated = await tenant.Scim.ScimPatchAsync($"/scim/v2/Users/{userId}", Patch("""{"op":"replace","value":{"active":true}}"""));
        Assert.True(AssertStatus(reactivated, HttpStatusCode.OK).GetProperty("active").GetBoolean());
        Assert.True((await tenant.ApiUserAsync(userId))!.Value.GetProperty("accountEnabled").GetBoolean());

        // Okta's profile updates are PUTs of the whole user: what it leaves out (the given name) is cleared.
        var replaced = await tenant.Scim.ScimPutAsync($"/scim/v2/Users/{userId}", $$"""
            {
              "schemas": ["{{UserSchema}}"],
              "id": "{{userId}}",
              "userName": "{{upn}}",
              "name": {"familyName": "Jones-Smith"},
              "emails": [{"primary": true, "value": "bob.js@mail.example", "type": "work"}],
              "displayName": "Bob Jones-Smith",
              "externalId": "00u1okta",
              "active": true
            }
            """);
        var user = AssertStatus(replaced, HttpStatusCode.OK);
        Assert.Equal("Bob Jones-Smith", user.GetProperty("displayName").GetString());
        Assert.False(user.GetProperty("name").TryGetProperty("givenName", out _));
        var apiUser = (await tenant.ApiUserAsync(userId))!.Value;
        Assert.Equal("bob.js@mail.example", apiUser.GetProperty("mail").GetString());
        Assert.Equal(JsonValueKind.Null, apiUser.GetProperty("givenName").ValueKind);
        Assert.Equal("Jones-Smith", apiUser.GetProperty("surname").GetString());

        // Group push: create with a member, rename with a path-less replace, then PUT with no members.
        var group = await tenant.Scim.ScimPostAsync("/scim/v2/Groups", Group("Sales", userId));
        Assert.Equal(userId, AssertStatus(group, HttpStatusCode.Created).GetProperty("members")[0].GetProperty("value").GetString());
        var groupId = group.Id();
        AssertStatus(await tenant.Scim.ScimPatchAsync($"/scim/v2/Groups/{groupId}",
            Patch($$$"""{"op":"replace","value":{"id":"{{{groupId}}}","displayName":"Sales EMEA"}}""")), HttpStatusCode.NoContent);
        Assert.Equal("Sales EMEA", AssertStatus(await tenant.Scim.ScimGetAsync($"/scim/v2/Groups/{groupId}"), HttpStatusCode.OK).GetProperty("displayName").GetString());
        var put = await tenant.Scim.ScimPutAsync($"/scim/v2/Groups/{groupId}", $$"""{"schemas":["{{GroupSchema}}"],"id":"{{groupId}}","displayName":"Sales EMEA","members":[]}""");
        Assert.Empty(AssertStatus(put, HttpStatusCode.OK).GetProperty("members").EnumerateArray());
        Assert.Empty(await tenant.ApiMembersAsync(groupId));

        // Disable, enable, update, member added, member removed: five events; the rename and the group have none.
        var events = (await tenant.EventsAsync()).Where(e => e.Sequence > sequence).ToList();
        Assert.Equal(
            ["identity.userDisabled.v1", "identity.userUpdated.v1", "identity.userUpdated.v1", "identity.groupMemberAdded.v1", "identity.groupMemberRemoved.v1"],
            events.Select(e => e.Type));
        Assert.Equal(sequence + 5, await tenant.SequenceAsync());
    }

    [Theory]
    [InlineData(ScimHosts.Sqlite)]
    [InlineData(ScimHosts.Postgres)]
    public async Task Patch_WithOneBadOperation_ChangesNothing(string provider)
    {
        var tenant = await SharedTenantAsync(provider);
        var userId = await tenant.CreateUserAsync("carol");
        var otherId = await tenant.CreateUserAsync("dave");
        var groupId = await tenant.CreateGroupAsync("Team", otherId);
        var sequence = await tenant.SequenceAsync();

        // The first two operations are valid; the third is not, so none applies.
        var userPatch = await tenant.Scim.ScimPatchAsync($"/scim/v2/Users/{userId}", Patch(
            """{"op":"replace","path":"displayName","value":"Carol Changed"}""",
            """{"op":"replace","path":"active","value":false}""",
            """{"op":"replace","path":"active","value":"maybe"}"""));
        AssertError(userPatch, HttpStatusCode.BadRequest, "invalidValue");
        var user = AssertStatus(await tenant.Scim.ScimGetAsync($"/scim/v2/Users/{userId}"), HttpStatusCode.OK);
        Assert.Equal("carol", user.GetProperty("displayName").GetString());
        Assert.True(user.GetProperty("active").GetBoolean());

        // A valid member added and one removed, then a member that is no user of the tenant.
        var groupPatch = await tenant.Scim.ScimPatchAsync($"/scim/v2/Groups/{groupId}", Patch(
            $$"""{"op":"add","path":"members","value":[{"value":"{{userId}}"}]}""",
            $$"""{"op":"remove","path":"members[value eq \"{{otherId}}\"]"}""",
            $$"""{"op":"add","path":"members","value":[{"value":"{{Guid.NewGuid()}}"}]}"""));
        AssertError(groupPatch, HttpStatusCode.BadRequest, "invalidValue");
        Assert.Equal([otherId], await tenant.ApiMembersAsync(groupId));

        Assert.Equal(sequence, await tenant.SequenceAsync());
        Assert.DoesNotContain(await tenant.EventsAsync(), e => e.Sequence > sequence);
    }

    [Theory]
    [InlineData(ScimHosts.Sqlite)]
    [InlineData(ScimHosts.Postgres)]
    public async Task DuplicateUserName_Returns409Uniqueness(string provider)
    {
        var tenant = await SharedTenantAsync(provider);
        var erinId = await tenant.CreateUserAsync("erin");
        var frankId = await tenant.CreateUserAsync("frank");
        var sequence = await tenant.SequenceAsync();

        // User names compare without case, as sign-in does; the tenant administrator's name is taken too.
        AssertError(await tenant.Scim.ScimPostAsync("/scim/v2/Users", User(tenant.Upn("ERIN"))), HttpStatusCode.Conflict, "uniqueness");
        AssertError(await tenant.Scim.ScimPostAsync("/scim/v2/Users", User(tenant.Upn("admin"))), HttpStatusCode.Conflict, "uniqueness");
        AssertError(await tenant.Scim.ScimPatchAsync($"/scim/v2/Users/{frankId}", Patch($$"""{"op":"replace","path":"userName","value":"{{tenant.Upn("erin")}}"}""")),
            HttpStatusCode.Conflict, "uniqueness");
        AssertError(await tenant.Scim.ScimPutAsync($"/scim/v2/Users/{frankId}", User(tenant.Upn("Erin"))), HttpStatusCode.Conflict, "uniqueness");
        Assert.Equal(tenant.Upn("frank"), AssertStatus(await tenant.Scim.ScimGetAsync($"/scim/v2/Users/{frankId}"), HttpStatusCode.OK).GetProperty("userName").GetString());

        // A rename to a free name is an update.
        var renamed = await tenant.Scim.ScimPatchAsync($"/scim/v2/Users/{erinId}", Patch($$"""{"op":"replace","path":"userName","value":"{{tenant.Upn("erin.new")}}"}"""));
        Assert.Equal(tenant.Upn("erin.new"), AssertStatus(renamed, HttpStatusCode.OK).GetProperty("userName").GetString());
        Assert.Equal(sequence + 1, await tenant.SequenceAsync());
        Assert.Equal("identity.userUpdated.v1", (await tenant.EventsAsync()).Single(e => e.Sequence == sequence + 1).Type);
    }

    /// <summary>A tenant that the tests which need no fresh one share, one per provider (the tests use names of their own).</summary>
    private Task<ScimTenant> SharedTenantAsync(string provider) =>
        hosts.SharedAsync("conversations:" + provider, () => hosts.CreateTenantAsync(provider, "conv"));

    /// <summary>The activity types of the tenant's audit records by SCIM, once there are the expected number.</summary>
    private static async Task<List<string>> AuditByScimAsync(ScimTenant tenant, int expected)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var page = await tenant.Admin.GetFromJsonAsync<JsonElement>("/api/v1/auditEvents?$top=1000");
            var activities = page.GetProperty("value").EnumerateArray()
                .Where(e => e.GetProperty("actor").GetProperty("userPrincipalName").GetString() == "scim")
                .Select(e => e.GetProperty("activityType").GetString()!).ToList();
            if (activities.Count >= expected || deadline.Elapsed > TimeSpan.FromSeconds(30))
            {
                Assert.True(activities.Count == expected, $"Expected {expected} audit records by scim, found: {string.Join(", ", activities)}");
                return activities;
            }

            await Task.Delay(200);
        }
    }
}
