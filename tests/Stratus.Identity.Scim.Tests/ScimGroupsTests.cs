using System.Net;
using Stratus.Identity.Scim.Tests.Support;
using static Stratus.Identity.Scim.Tests.Support.Scim;

namespace Stratus.Identity.Scim.Tests;

/// <summary>/scim/v2/Groups: members added, removed and replaced in every form clients use, and bad input.</summary>
[Collection(ScimCollection.Name)]
public sealed class ScimGroupsTests(ScimHosts hosts)
{
    private Task<ScimTenant> TenantAsync() => hosts.SharedAsync("groups", () => hosts.CreateTenantAsync(ScimHosts.Sqlite, "groups"));

    [Fact]
    public async Task Patch_Members_InEveryForm_OneEventPerMemberChanged()
    {
        var tenant = await TenantAsync();
        var u1 = await tenant.CreateUserAsync("m1");
        var u2 = await tenant.CreateUserAsync("m2");
        var u3 = await tenant.CreateUserAsync("m3");
        var groupId = await tenant.CreateGroupAsync("Members " + Guid.NewGuid());
        var sequence = await tenant.SequenceAsync();
        var path = $"/scim/v2/Groups/{groupId}";

        // Path-less add, with members inside the value.
        AssertStatus(await tenant.Scim.ScimPatchAsync(path, Patch($$$"""{"op":"add","value":{"members":[{"value":"{{{u1}}}"},{"value":"{{{u2}}}"}]}}""")), HttpStatusCode.NoContent);
        Assert.Equal(Sorted(u1, u2), await tenant.ApiMembersAsync(groupId));
        Assert.Equal(sequence + 2, await tenant.SequenceAsync());

        // Adding a member again changes nothing.
        AssertStatus(await tenant.Scim.ScimPatchAsync(path, Patch($$"""{"op":"add","path":"members","value":[{"value":"{{u1}}"}]}""")), HttpStatusCode.NoContent);
        Assert.Equal(sequence + 2, await tenant.SequenceAsync());

        // Replace: u1 stays, u2 leaves, u3 joins.
        AssertStatus(await tenant.Scim.ScimPatchAsync(path, Patch($$"""{"op":"replace","path":"members","value":[{"value":"{{u1}}"},{"value":"{{u3}}"}]}""")), HttpStatusCode.NoContent);
        Assert.Equal(Sorted(u1, u3), await tenant.ApiMembersAsync(groupId));
        Assert.Equal(sequence + 4, await tenant.SequenceAsync());

        // The RFC's filtered remove; removing someone who is not a member changes nothing.
        AssertStatus(await tenant.Scim.ScimPatchAsync(path, Patch($$"""{"op":"remove","path":"members[value eq \"{{u3}}\"]"}""")), HttpStatusCode.NoContent);
        AssertStatus(await tenant.Scim.ScimPatchAsync(path, Patch($$"""{"op":"remove","path":"members[value eq \"{{u2}}\"]"}""")), HttpStatusCode.NoContent);
        Assert.Equal([u1], await tenant.ApiMembersAsync(groupId));
        Assert.Equal(sequence + 5, await tenant.SequenceAsync());

        // Removing 'members' without a value removes them all.
        AssertStatus(await tenant.Scim.ScimPatchAsync(path, Patch($$"""{"op":"add","path":"members","value":[{"value":"{{u2}}"}]}""", """{"op":"remove","path":"members"}""")), HttpStatusCode.NoContent);
        Assert.Empty(await tenant.ApiMembersAsync(groupId));
        Assert.Equal(sequence + 6, await tenant.SequenceAsync());

        // Within one PATCH, members are added (in id order) before others are removed.
        var described = (await tenant.EventsAsync()).Where(e => e.Sequence > sequence).Select(Describe).ToList();
        Assert.Equal(Sorted("added " + u1, "added " + u2), described.Take(2).Order(StringComparer.Ordinal));
        Assert.Equal(["added " + u3, "removed " + u2, "removed " + u3, "removed " + u1], described.Skip(2));
    }

    [Fact]
    public async Task GetAndList_ShowMembers_UnlessExcluded_AndFilterOnDisplayNameAndExternalId()
    {
        var tenant = await TenantAsync();
        var userId = await tenant.CreateUserAsync("n1");
        var name = "Listed " + Guid.NewGuid();
        var created = await tenant.Scim.ScimPostAsync("/scim/v2/Groups", $$"""{"schemas":["{{GroupSchema}}"],"displayName":"{{name}}","externalId":"ext-{{name}}","members":[{"value":"{{userId}}"}]}""");
        var group = AssertStatus(created, HttpStatusCode.Created);
        Assert.Equal("n1", group.GetProperty("members")[0].GetProperty("display").GetString());
        Assert.Equal(created.Location, new Uri(group.GetProperty("meta").GetProperty("location").GetString()!));

        var byName = AssertList(await tenant.Scim.ScimGetAsync($"/scim/v2/Groups?{Filter($"displayName eq \"{name}\"")}"), 1).Single();
        Assert.Equal(userId, byName.GetProperty("members")[0].GetProperty("value").GetString());
        var byExternalId = AssertList(await tenant.Scim.ScimGetAsync($"/scim/v2/Groups?excludedAttributes=members&{Filter($"externalId eq \"ext-{name}\"")}"), 1).Single();
        Assert.False(byExternalId.TryGetProperty("members", out _));
        var get = AssertStatus(await tenant.Scim.ScimGetAsync($"/scim/v2/Groups/{created.Id()}?excludedAttributes=members"), HttpStatusCode.OK);
        Assert.False(get.TryGetProperty("members", out _));
        Assert.Equal(name, get.GetProperty("displayName").GetString());
        AssertError(await tenant.Scim.ScimGetAsync($"/scim/v2/Groups?{Filter("members eq \"x\"")}"), HttpStatusCode.BadRequest, "invalidFilter");
    }

    [Fact]
    public async Task Patch_ReplaceDisplayName_Renames_WithoutADirectoryEvent()
    {
        var tenant = await TenantAsync();
        var groupId = await tenant.CreateGroupAsync("Before " + Guid.NewGuid());
        var sequence = await tenant.SequenceAsync();

        AssertStatus(await tenant.Scim.ScimPatchAsync($"/scim/v2/Groups/{groupId}", Patch("""{"op":"Replace","path":"displayName","value":"After"}""")), HttpStatusCode.NoContent);

        Assert.Equal("After", AssertStatus(await tenant.Scim.ScimGetAsync($"/scim/v2/Groups/{groupId}"), HttpStatusCode.OK).GetProperty("displayName").GetString());
        Assert.Equal(sequence, await tenant.SequenceAsync());
    }

    [Fact]
    public async Task Delete_RemovesTheGroup_WithOneEventNamingItsFormerMembers()
    {
        var tenant = await TenantAsync();
        var userId = await tenant.CreateUserAsync("o1");
        var groupId = await tenant.CreateGroupAsync("Doomed", userId);
        var sequence = await tenant.SequenceAsync();

        AssertStatus(await tenant.Scim.ScimDeleteAsync($"/scim/v2/Groups/{groupId}"), HttpStatusCode.NoContent);

        AssertError(await tenant.Scim.ScimGetAsync($"/scim/v2/Groups/{groupId}"), HttpStatusCode.NotFound, null);
        AssertError(await tenant.Scim.ScimDeleteAsync($"/scim/v2/Groups/{groupId}"), HttpStatusCode.NotFound, null);
        var deleted = Assert.Single(await tenant.EventsAsync(), e => e.Sequence > sequence);
        Assert.Equal("identity.groupDeleted.v1", deleted.Type);
        Assert.Equal([userId], deleted.Body.GetProperty("formerMemberIds").EnumerateArray().Select(m => m.GetString()));
        Assert.Equal(sequence + 1, await tenant.SequenceAsync());
    }

    [Theory]
    [InlineData("""{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"]}""", "invalidValue")]
    [InlineData("""{"displayName":"   "}""", "invalidValue")]
    [InlineData("""{"displayName":7}""", "invalidValue")]
    [InlineData("""{"displayName":"Bad members","members":[{"value":"not-a-guid"}]}""", "invalidValue")]
    [InlineData("""{"displayName":"Bad members","members":[{"display":"no value"}]}""", "invalidValue")]
    [InlineData("""{"displayName":"Bad members","members":"everyone"}""", "invalidValue")]
    [InlineData("""{"displayName":"Unknown member","members":[{"value":"0198a9e4-0000-7000-8000-000000000001"}]}""", "invalidValue")]
    [InlineData("""{"displayName":""", "invalidSyntax")]
    public async Task Create_WithBadInput_Returns400_AndCreatesNothing(string body, string scimType)
    {
        var tenant = await TenantAsync();
        var before = await CountGroupsAsync(tenant);

        AssertError(await tenant.Scim.ScimPostAsync("/scim/v2/Groups", body), HttpStatusCode.BadRequest, scimType);

        Assert.Equal(before, await CountGroupsAsync(tenant));
    }

    [Theory]
    [InlineData("""{"op":"remove","path":"displayName"}""", "invalidValue")]
    [InlineData("""{"op":"replace","path":"displayName","value":""}""", "invalidValue")]
    [InlineData("""{"op":"add","path":"members","value":[{"value":"not-a-guid"}]}""", "invalidValue")]
    [InlineData("""{"op":"add","path":"members","value":"everyone"}""", "invalidValue")]
    [InlineData("""{"op":"remove","path":"members[display eq \"x\"]"}""", "invalidFilter")]
    [InlineData("""{"op":"remove","path":"members[value co \"x\"]"}""", "invalidFilter")]
    [InlineData("""{"op":"remove","path":"members[value eq \"a\" or value eq \"b\"]"}""", "invalidFilter")]
    [InlineData("""{"op":"replace","path":"members[value eq \"0198a9e4-0000-7000-8000-000000000001\"]","value":{}}""", "invalidPath")]
    [InlineData("""{"op":"replace","path":"members.value","value":"x"}""", "invalidPath")]
    [InlineData("""{"op":"replace","path":"displayName.value","value":"x"}""", "invalidPath")]
    [InlineData("""{"op":"replace","path":"meta","value":{}}""", "mutability")]
    [InlineData("""{"op":"remove"}""", "noTarget")]
    [InlineData("""{"op":"Delete","path":"members"}""", "invalidSyntax")]
    public async Task Patch_Malformed_Returns400WithTheRightScimType_AndChangesNothing(string operation, string scimType)
    {
        var tenant = await TenantAsync();
        var (groupId, memberId) = await hosts.SharedAsync("groups:patch-target", async () =>
        {
            var member = await tenant.CreateUserAsync("p-member");
            return Tuple.Create(await tenant.CreateGroupAsync("Patch target", member), member);
        });
        var sequence = await tenant.SequenceAsync();

        AssertError(await tenant.Scim.ScimPatchAsync($"/scim/v2/Groups/{groupId}", Patch(operation)), HttpStatusCode.BadRequest, scimType);

        var group = AssertStatus(await tenant.Scim.ScimGetAsync($"/scim/v2/Groups/{groupId}"), HttpStatusCode.OK);
        Assert.Equal("Patch target", group.GetProperty("displayName").GetString());
        Assert.Equal([memberId], await tenant.ApiMembersAsync(groupId));
        Assert.Equal(sequence, await tenant.SequenceAsync());
    }

    [Fact]
    public async Task GroupsNotProvisionedByScim_AreVisible_ButNotChanged()
    {
        var tenant = await TenantAsync();
        using var created = await tenant.Admin.PostAsync("/api/v1/groups",
            new StringContent("""{"displayName":"Made in Stratus"}""", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var groupId = System.Text.Json.JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString()!;

        AssertStatus(await tenant.Scim.ScimGetAsync($"/scim/v2/Groups/{groupId}"), HttpStatusCode.OK);
        AssertError(await tenant.Scim.ScimPatchAsync($"/scim/v2/Groups/{groupId}", Patch("""{"op":"replace","path":"displayName","value":"Taken over"}""")),
            HttpStatusCode.BadRequest, "mutability");
        AssertError(await tenant.Scim.ScimDeleteAsync($"/scim/v2/Groups/{groupId}"), HttpStatusCode.BadRequest, "mutability");
        Assert.Equal("Made in Stratus", AssertStatus(await tenant.Scim.ScimGetAsync($"/scim/v2/Groups/{groupId}"), HttpStatusCode.OK).GetProperty("displayName").GetString());
    }

    private static async Task<int> CountGroupsAsync(ScimTenant tenant)
    {
        var reply = await tenant.Scim.ScimGetAsync("/scim/v2/Groups?count=0");
        return AssertStatus(reply, HttpStatusCode.OK).GetProperty("totalResults").GetInt32();
    }

    private static List<string> Sorted(params string[] ids) => [.. ids.Order(StringComparer.Ordinal)];

    private static string Describe(DirectoryEvent e) =>
        (e.Type == "identity.groupMemberAdded.v1" ? "added " : "removed ") + e.Body.GetProperty("userId").GetString();
}
