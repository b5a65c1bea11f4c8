using System.Net;
using Stratus.Identity.Scim.Tests.Support;
using static Stratus.Identity.Scim.Tests.Support.Scim;

namespace Stratus.Identity.Scim.Tests;

/// <summary>
/// Requests as Microsoft documents them for Entra ID's provisioning service ("Tutorial: Develop and plan provisioning
/// for a SCIM endpoint" and "Known issues and resolutions with SCIM 2.0 protocol compliance"): a GET to /Users with a
/// filter must allow both userName eq ... and emails[type eq "work"].value eq ...; groups are matched by displayName,
/// which must be unique (409 uniqueness to a create or a rename that would repeat one).
/// </summary>
[Collection(ScimCollection.Name)]
public sealed class ScimEntraRequestsTests(ScimHosts hosts)
{
    private Task<ScimTenant> TenantAsync() => hosts.SharedAsync("entra-requests", () => hosts.CreateTenantAsync(ScimHosts.Sqlite, "entrareq"));

    [Fact]
    public async Task GetUsers_FilteredByWorkEmail_FindsTheUser_AsEntraMatchesThem()
    {
        var tenant = await TenantAsync();
        var upn = tenant.Upn("Grace.Hopper");
        var created = await tenant.Scim.ScimPostAsync("/scim/v2/Users", EntraUser(upn, "grace-object-id", "Grace", "Hopper"));
        AssertStatus(created, HttpStatusCode.Created);
        await tenant.CreateUserAsync("someone-else");

        // As Entra sends it when users are matched by mail (the address in another case than stored).
        var found = AssertList(await tenant.Scim.ScimGetAsync($"/scim/v2/Users?{Filter($"emails[type eq \"work\"].value eq \"{upn.ToUpperInvariant()}\"")}"), totalResults: 1);
        Assert.Equal(created.Id(), found[0].GetProperty("id").GetString());

        // The same with the schema's URN, with 'primary', and joined with 'and'.
        AssertList(await tenant.Scim.ScimGetAsync($"/scim/v2/Users?{Filter($"urn:ietf:params:scim:schemas:core:2.0:User:emails[type eq \"work\" and primary eq true].value eq \"{upn}\" and active eq true")}"), totalResults: 1);
        AssertList(await tenant.Scim.ScimGetAsync($"/scim/v2/Users?{Filter($"emails[type eq \"work\"].value eq \"nobody@{tenant.Domain}\"")}"), totalResults: 0);

        // And the other documented form still works.
        AssertList(await tenant.Scim.ScimGetAsync($"/scim/v2/Users?{Filter($"userName eq \"{upn}\"")}"), totalResults: 1);
    }

    [Theory]
    [InlineData("emails[type eq \"home\"].value eq \"a@b.example\"", "emails")]
    [InlineData("emails[type eq \"work\"].display eq \"a@b.example\"", "emails.display")]
    [InlineData("emails[type eq \"work\" eq \"a@b.example\"", "]")]
    [InlineData("userName[type eq \"work\"] eq \"a@b.example\"", "username")]
    [InlineData("not (userName eq \"a@b.example\")", "'not'")]
    public async Task GetUsers_WithAValueFilterItCannotAnswer_Is400InvalidFilter_NamingWhatIsWrong(string filter, string named)
    {
        var tenant = await TenantAsync();

        var error = AssertError(await tenant.Scim.ScimGetAsync($"/scim/v2/Users?{Filter(filter)}"), HttpStatusCode.BadRequest, "invalidFilter");

        var detail = error.GetProperty("detail").GetString()!;
        Assert.Contains(named, detail, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("'emails[type'", detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CreateGroup_WithADisplayNameInUse_Is409Uniqueness_AndCreatesNothing()
    {
        var tenant = await TenantAsync();
        var name = "Entra group " + Guid.NewGuid().ToString("N")[..8];
        // Microsoft's "Create Group" request.
        var first = await tenant.Scim.ScimPostAsync("/scim/v2/Groups", $$"""
            {"externalId":"8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159","displayName":{{Json(name)}},"meta":{"resourceType":"Group"},"members":[],"schemas":["{{GroupSchema}}"]}
            """);
        AssertStatus(first, HttpStatusCode.Created);
        var sequence = await tenant.SequenceAsync();

        var again = await tenant.Scim.ScimPostAsync("/scim/v2/Groups", $$"""
            {"externalId":"9bb2b1d1-d5d4-4cd1-c5b6-3fa787a11260","displayName":{{Json(name.ToUpperInvariant())}},"meta":{"resourceType":"Group"},"members":[],"schemas":["{{GroupSchema}}"]}
            """);

        var error = AssertError(again, HttpStatusCode.Conflict, "uniqueness");
        Assert.Contains(name.ToUpperInvariant(), error.GetProperty("detail").GetString()!, StringComparison.Ordinal);
        AssertList(await tenant.Scim.ScimGetAsync($"/scim/v2/Groups?{Filter($"displayName eq \"{name}\"")}"), totalResults: 1);
        Assert.Equal(sequence, await tenant.SequenceAsync());
    }

    [Fact]
    public async Task RenameGroup_ToADisplayNameInUse_Is409Uniqueness_ByPatchAndByPut_AndChangesNothing()
    {
        var tenant = await TenantAsync();
        var taken = "Taken " + Guid.NewGuid().ToString("N")[..8];
        var mine = "Mine " + Guid.NewGuid().ToString("N")[..8];
        await tenant.CreateGroupAsync(taken);
        var groupId = await tenant.CreateGroupAsync(mine);
        var sequence = await tenant.SequenceAsync();

        // Microsoft's "Update Group [Non-member attributes]" request.
        AssertError(await tenant.Scim.ScimPatchAsync($"/scim/v2/Groups/{groupId}", $$"""
            {"schemas":["{{PatchOpSchema}}"],"Operations":[{"op":"Replace","path":"displayName","value":{{Json(taken)}}}]}
            """), HttpStatusCode.Conflict, "uniqueness");
        AssertError(await tenant.Scim.ScimPutAsync($"/scim/v2/Groups/{groupId}", Group(taken.ToLowerInvariant())), HttpStatusCode.Conflict, "uniqueness");

        Assert.Equal(mine, AssertStatus(await tenant.Scim.ScimGetAsync($"/scim/v2/Groups/{groupId}"), HttpStatusCode.OK).GetProperty("displayName").GetString());
        Assert.Equal(sequence, await tenant.SequenceAsync());

        // Renaming to its own name in another case, or to a free name, is fine.
        AssertStatus(await tenant.Scim.ScimPatchAsync($"/scim/v2/Groups/{groupId}", Patch($$"""{"op":"Replace","path":"displayName","value":{{Json(mine.ToUpperInvariant())}}}""")), HttpStatusCode.NoContent);
        AssertStatus(await tenant.Scim.ScimPatchAsync($"/scim/v2/Groups/{groupId}", Patch($$"""{"op":"Replace","path":"displayName","value":{{Json(mine + " renamed")}}}""")), HttpStatusCode.NoContent);
    }
}
