using System.Net;
using System.Text;
using Stratus.Identity.Scim.Tests.Support;
using static Stratus.Identity.Scim.Tests.Support.Scim;

namespace Stratus.Identity.Scim.Tests;

/// <summary>/scim/v2/Users: filters, paging, PATCH forms, and every kind of bad input, answered in SCIM's error shape.</summary>
[Collection(ScimCollection.Name)]
public sealed class ScimUsersTests(ScimHosts hosts)
{
    private Task<ScimTenant> TenantAsync() => hosts.SharedAsync("users", () => hosts.CreateTenantAsync(ScimHosts.Sqlite, "users"));

    [Theory]
    [InlineData("userName eq", "invalidFilter")]
    [InlineData("userName co \"a\"", "invalidFilter")]
    [InlineData("userName sw \"a\"", "invalidFilter")]
    [InlineData("title pr", "invalidFilter")]
    [InlineData("(userName eq \"a\")", "invalidFilter")]
    [InlineData("userName eq \"a\" or userName eq \"b\"", "invalidFilter")]
    [InlineData("userName eq \"unterminated", "invalidFilter")]
    [InlineData("userName eq alice", "invalidFilter")]
    [InlineData("title eq \"Engineer\"", "invalidFilter")]
    [InlineData("active eq \"yes\"", "invalidFilter")]
    [InlineData("emails[type eq \"home\"].value eq \"a@b.c\"", "invalidFilter")]
    [InlineData("userName eq \"a\" and", "invalidFilter")]
    public async Task List_WithAFilterItCannotAnswer_Returns400InvalidFilter(string filter, string scimType)
    {
        var tenant = await TenantAsync();

        AssertError(await tenant.Scim.ScimGetAsync($"/scim/v2/Users?{Filter(filter)}"), HttpStatusCode.BadRequest, scimType);
    }

    [Fact]
    public async Task List_FiltersOnExternalIdDisplayNameIdAndActive_JoinedByAnd()
    {
        var tenant = await TenantAsync();
        var created = await tenant.Scim.ScimPostAsync("/scim/v2/Users", EntraUser(tenant.Upn("gina"), "gina-oid", "Gina", "Lopez"));
        var id = AssertStatus(created, HttpStatusCode.Created).GetProperty("id").GetString()!;
        await tenant.CreateUserAsync("hank");

        Assert.Equal(id, AssertList(await tenant.Scim.ScimGetAsync($"/scim/v2/Users?{Filter("externalId eq \"gina-oid\"")}"), 1).Single().GetProperty("id").GetString());
        AssertList(await tenant.Scim.ScimGetAsync($"/scim/v2/Users?{Filter("externalId eq \"GINA-OID\"")}"), 0);
        AssertList(await tenant.Scim.ScimGetAsync($"/scim/v2/Users?{Filter("displayName eq \"Gina Lopez\"")}"), 1);
        AssertList(await tenant.Scim.ScimGetAsync($"/scim/v2/Users?{Filter($"id eq \"{id}\"")}"), 1);
        AssertList(await tenant.Scim.ScimGetAsync($"/scim/v2/Users?{Filter("id eq \"not-an-id\"")}"), 0);
        AssertList(await tenant.Scim.ScimGetAsync($"/scim/v2/Users?{Filter($"urn:ietf:params:scim:schemas:core:2.0:User:userName eq \"{tenant.Upn("GINA")}\"")}"), 1);
        AssertList(await tenant.Scim.ScimGetAsync($"/scim/v2/Users?{Filter($"userName eq \"{tenant.Upn("gina")}\" and active eq true")}"), 1);
        AssertList(await tenant.Scim.ScimGetAsync($"/scim/v2/Users?{Filter($"userName eq \"{tenant.Upn("gina")}\" and active eq false")}"), 0);
        AssertList(await tenant.Scim.ScimGetAsync($"/scim/v2/Users?{Filter($"USERNAME EQ \"{tenant.Upn("hank")}\"")}"), 1);
    }

    [Fact]
    public async Task List_PagesWithStartIndexAndCount()
    {
        var tenant = await hosts.CreateTenantAsync(ScimHosts.Sqlite, "paging");
        foreach (var name in new[] { "p1", "p2", "p3", "p4" })
        {
            await tenant.CreateUserAsync(name);
        }

        // Five users: the four and the tenant administrator.
        var seen = new List<string>();
        for (var start = 1; start <= 5; start += 2)
        {
            var reply = await tenant.Scim.ScimGetAsync($"/scim/v2/Users?startIndex={start}&count=2");
            var page = AssertList(reply, 5);
            Assert.Equal(start, reply.Body.GetProperty("startIndex").GetInt32());
            Assert.Equal(start == 5 ? 1 : 2, page.Count);
            seen.AddRange(page.Select(u => u.GetProperty("id").GetString()!));
        }

        Assert.Equal(5, seen.Distinct().Count());
        Assert.Empty(AssertList(await tenant.Scim.ScimGetAsync("/scim/v2/Users?count=0"), 5));
        Assert.Empty(AssertList(await tenant.Scim.ScimGetAsync("/scim/v2/Users?startIndex=6"), 5));
        Assert.Equal(5, AssertList(await tenant.Scim.ScimGetAsync("/scim/v2/Users?startIndex=0&count=100"), 5).Count);
        AssertError(await tenant.Scim.ScimGetAsync("/scim/v2/Users?count=many"), HttpStatusCode.BadRequest, "invalidValue");
        AssertError(await tenant.Scim.ScimGetAsync("/scim/v2/Users?startIndex=first"), HttpStatusCode.BadRequest, "invalidValue");
    }

    [Fact]
    public async Task Get_WithAttributesOrExcludedAttributes_ReturnsOnlyThose_AndAlwaysTheId()
    {
        var tenant = await TenantAsync();
        var id = await tenant.CreateUserAsync("ivy");

        var only = AssertStatus(await tenant.Scim.ScimGetAsync($"/scim/v2/Users/{id}?attributes=userName"), HttpStatusCode.OK);
        Assert.Equal(["schemas", "id", "userName"], only.EnumerateObject().Select(p => p.Name));
        var without = AssertStatus(await tenant.Scim.ScimGetAsync($"/scim/v2/Users/{id}?excludedAttributes=displayName,meta"), HttpStatusCode.OK);
        Assert.False(without.TryGetProperty("displayName", out _));
        Assert.False(without.TryGetProperty("meta", out _));
        Assert.True(without.TryGetProperty("userName", out _));
    }

    [Theory]
    [InlineData("""{"displayName":"No user name"}""", "invalidValue")]
    [InlineData("""{"userName":""}""", "invalidValue")]
    [InlineData("""{"userName":42}""", "invalidValue")]
    [InlineData("""{"userName":"jack"}""", "invalidValue")]
    [InlineData("""{"userName":"jack@other-domain.example"}""", "invalidValue")]
    [InlineData("""{"userName":".jack@DOMAIN"}""", "invalidValue")]
    [InlineData("""{"userName":"jack@DOMAIN","active":"perhaps"}""", "invalidValue")]
    [InlineData("""{"userName":"jack@DOMAIN","emails":[{"value":"not an address","primary":true}]}""", "invalidValue")]
    [InlineData("""{"userName":"jack@DOMAIN","emails":"jack@example.com"}""", "invalidValue")]
    [InlineData("""{"userName":"jack@DOMAIN","name":"Jack"}""", "invalidValue")]
    [InlineData("""{"userName":"jack@DOMAIN","displayName":["Jack"]}""", "invalidValue")]
    [InlineData("""["userName","jack@DOMAIN"]""", "invalidSyntax")]
    [InlineData("""{"userName":"jack@DOMAIN",""", "invalidSyntax")]
    [InlineData("", "invalidSyntax")]
    public async Task Create_WithBadInput_Returns400_AndCreatesNothing(string body, string scimType)
    {
        var tenant = await TenantAsync();
        var sequence = await tenant.SequenceAsync();

        AssertError(await tenant.Scim.ScimPostAsync("/scim/v2/Users", body.Replace("DOMAIN", tenant.Domain, StringComparison.Ordinal)), HttpStatusCode.BadRequest, scimType);

        AssertList(await tenant.Scim.ScimGetAsync($"/scim/v2/Users?{Filter($"userName eq \"{tenant.Upn("jack")}\"")}"), 0);
        Assert.Equal(sequence, await tenant.SequenceAsync());
    }

    [Fact]
    public async Task Create_WithALongDisplayName_Returns400InvalidValue()
    {
        var tenant = await TenantAsync();

        AssertError(await tenant.Scim.ScimPostAsync("/scim/v2/Users", User(tenant.Upn("long"), new string('x', 257))), HttpStatusCode.BadRequest, "invalidValue");
    }

    [Fact]
    public async Task Create_WithMoreThanOneMegabyte_Returns413InScimShape()
    {
        var tenant = await TenantAsync();
        var body = User(tenant.Upn("big"), new string('x', 1_100_000));

        var reply = await tenant.Scim.ScimPostAsync("/scim/v2/Users", body);

        AssertError(reply, HttpStatusCode.RequestEntityTooLarge, null);
        AssertList(await tenant.Scim.ScimGetAsync($"/scim/v2/Users?{Filter($"userName eq \"{tenant.Upn("big")}\"")}"), 0);
    }

    [Fact]
    public async Task Create_WithAChunkedBodyOfMoreThanOneMegabyte_Returns413InScimShape()
    {
        var tenant = await TenantAsync();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/scim/v2/Users")
        {
            // No Content-Length: the limit must hold while the body is read, too.
            Content = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(User(tenant.Upn("chunked"), new string('y', 1_100_000))))),
        };
        request.Content.Headers.ContentType = new(MediaType);
        request.Headers.TransferEncodingChunked = true;

        using var response = await tenant.Scim.SendAsync(request);

        AssertError(new ScimReply(response.StatusCode, response.Content.Headers.ContentType?.MediaType, null, await response.Content.ReadAsStringAsync()),
            HttpStatusCode.RequestEntityTooLarge, null);
    }

    [Theory]
    [InlineData("""{"Operations":[{"op":"replace","path":"active","value":false}]}""", "invalidSyntax")]
    [InlineData("""{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"]}""", "invalidSyntax")]
    [InlineData("""{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[]}""", "invalidSyntax")]
    [InlineData("""{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":{"op":"replace"}}""", "invalidSyntax")]
    [InlineData("""{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":["replace"]}""", "invalidSyntax")]
    [InlineData("""{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"move","path":"active","value":false}]}""", "invalidSyntax")]
    [InlineData("""{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"path":"active","value":false}]}""", "invalidSyntax")]
    [InlineData("""{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"active"}]}""", "invalidSyntax")]
    [InlineData("""{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":false}]}""", "invalidSyntax")]
    [InlineData("""{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"remove"}]}""", "noTarget")]
    [InlineData("""{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"name..givenName","value":"X"}]}""", "invalidPath")]
    [InlineData("""{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"emails[type eq \"work\"","value":"a@b.example"}]}""", "invalidPath")]
    [InlineData("""{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":7,"value":"X"}]}""", "invalidPath")]
    [InlineData("""{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"active.value","value":true}]}""", "invalidPath")]
    [InlineData("""{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"emails[type co \"work\"].value","value":"a@b.example"}]}""", "invalidFilter")]
    [InlineData("""{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"id","value":"00000000-0000-0000-0000-000000000001"}]}""", "mutability")]
    [InlineData("""{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"groups","value":[{"value":"x"}]}]}""", "mutability")]
    [InlineData("""{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"active","value":"maybe"}]}""", "invalidValue")]
    [InlineData("""{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"active","value":1}]}""", "invalidValue")]
    [InlineData("""{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"remove","path":"userName"}]}""", "invalidValue")]
    [InlineData("""{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"userName","value":"someone@elsewhere.example"}]}""", "invalidValue")]
    [InlineData("""{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"emails[type eq \"work\"].value","value":"not an address"}]}""", "invalidValue")]
    [InlineData("""{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"emails[value eq \"other@b.example\"].value","value":"a@b.example"}]}""", "noTarget")]
    [InlineData("""{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"name.givenName":7}}]}""", "invalidValue")]
    [InlineData("""not json""", "invalidSyntax")]
    public async Task Patch_Malformed_Returns400WithTheRightScimType_AndChangesNothing(string body, string scimType)
    {
        var tenant = await TenantAsync();
        var id = await hosts.SharedAsync("users:patch-target", () => tenant.CreateUserAsync("kim"));
        var before = AssertStatus(await tenant.Scim.ScimGetAsync($"/scim/v2/Users/{id}"), HttpStatusCode.OK).GetRawText();
        var sequence = await tenant.SequenceAsync();

        AssertError(await tenant.Scim.ScimPatchAsync($"/scim/v2/Users/{id}", body), HttpStatusCode.BadRequest, scimType);

        Assert.Equal(before, AssertStatus(await tenant.Scim.ScimGetAsync($"/scim/v2/Users/{id}"), HttpStatusCode.OK).GetRawText());
        Assert.Equal(sequence, await tenant.SequenceAsync());
    }

    [Fact]
    public async Task Patch_EntraForms_ForNamesEmailsAndExtensions_ApplyInOneEvent()
    {
        var tenant = await TenantAsync();
        var id = await tenant.CreateUserAsync("lee");
        var sequence = await tenant.SequenceAsync();

        var reply = await tenant.Scim.ScimPatchAsync($"/scim/v2/Users/{id}", Patch(
            """{"op":"Add","path":"name.givenName","value":"Lee"}""",
            """{"op":"Replace","path":"name.familyName","value":"Chen"}""",
            """{"op":"Add","path":"emails[type eq \"work\"].value","value":"lee.chen@mail.example"}""",
            """{"op":"Replace","path":"displayName","value":"Lee Chen"}""",
            """{"op":"Add","path":"title","value":"Engineer"}""",
            """{"op":"Add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber","value":"42"}""",
            """{"op":"Replace","path":"urn:ietf:params:scim:schemas:core:2.0:User:externalId","value":"lee-oid"}""",
            """{"op":"Add","value":{"preferredLanguage":"en-US","name.formatted":"Lee Chen"}}"""));

        var user = AssertStatus(reply, HttpStatusCode.OK);
        Assert.Equal("Lee", user.GetProperty("name").GetProperty("givenName").GetString());
        Assert.Equal("Chen", user.GetProperty("name").GetProperty("familyName").GetString());
        Assert.Equal("lee.chen@mail.example", user.GetProperty("emails")[0].GetProperty("value").GetString());
        Assert.Equal("Lee Chen", user.GetProperty("displayName").GetString());
        Assert.Equal("lee-oid", user.GetProperty("externalId").GetString());
        Assert.Equal(sequence + 1, await tenant.SequenceAsync());

        // Removing the work address clears it; a home address is not kept, so removing one changes nothing.
        AssertStatus(await tenant.Scim.ScimPatchAsync($"/scim/v2/Users/{id}", Patch("""{"op":"remove","path":"emails[type eq \"home\"]"}""")), HttpStatusCode.OK);
        Assert.Equal(sequence + 1, await tenant.SequenceAsync());
        var cleared = AssertStatus(await tenant.Scim.ScimPatchAsync($"/scim/v2/Users/{id}", Patch("""{"op":"remove","path":"emails[type eq \"work\"]"}""")), HttpStatusCode.OK);
        Assert.False(cleared.TryGetProperty("emails", out _));
        Assert.Equal(sequence + 2, await tenant.SequenceAsync());
    }

    [Fact]
    public async Task Patch_ThatChangesNothing_PublishesNoEvent()
    {
        var tenant = await TenantAsync();
        var id = await tenant.CreateUserAsync("max");
        var sequence = await tenant.SequenceAsync();

        var reply = await tenant.Scim.ScimPatchAsync($"/scim/v2/Users/{id}", Patch("""{"op":"Replace","path":"active","value":"True"}""", """{"op":"replace","path":"displayName","value":"max"}"""));

        Assert.True(AssertStatus(reply, HttpStatusCode.OK).GetProperty("active").GetBoolean());
        Assert.Equal(sequence, await tenant.SequenceAsync());
    }

    [Fact]
    public async Task UnknownOrMalformedId_Returns404InScimShape()
    {
        var tenant = await TenantAsync();

        AssertError(await tenant.Scim.ScimGetAsync($"/scim/v2/Users/{Guid.NewGuid()}"), HttpStatusCode.NotFound, null);
        AssertError(await tenant.Scim.ScimGetAsync("/scim/v2/Users/not-a-guid"), HttpStatusCode.NotFound, null);
        AssertError(await tenant.Scim.ScimPatchAsync($"/scim/v2/Users/{Guid.NewGuid()}", Patch("""{"op":"replace","path":"active","value":false}""")), HttpStatusCode.NotFound, null);
        AssertError(await tenant.Scim.ScimPutAsync($"/scim/v2/Users/{Guid.NewGuid()}", User(tenant.Upn("nobody"))), HttpStatusCode.NotFound, null);
        AssertError(await tenant.Scim.ScimDeleteAsync($"/scim/v2/Users/{Guid.NewGuid()}"), HttpStatusCode.NotFound, null);
        AssertError(await tenant.Scim.ScimGetAsync("/scim/v2/Devices"), HttpStatusCode.NotFound, null);
    }

    [Fact]
    public async Task UsersNotProvisionedByScim_AreVisible_ButNotChanged()
    {
        var tenant = await TenantAsync();
        var sequence = await tenant.SequenceAsync();
        var admin = AssertList(await tenant.Scim.ScimGetAsync($"/scim/v2/Users?{Filter($"userName eq \"{tenant.Upn("admin")}\"")}"), 1).Single();
        Assert.Equal(tenant.AdminId.ToString(), admin.GetProperty("id").GetString());

        // The tenant administrator was made in Stratus: an identity provider cannot disable or delete it.
        AssertError(await tenant.Scim.ScimPatchAsync($"/scim/v2/Users/{tenant.AdminId}", Patch("""{"op":"Replace","path":"active","value":"False"}""")),
            HttpStatusCode.BadRequest, "mutability");
        AssertError(await tenant.Scim.ScimPutAsync($"/scim/v2/Users/{tenant.AdminId}", User(tenant.Upn("admin"), "Renamed")), HttpStatusCode.BadRequest, "mutability");
        AssertError(await tenant.Scim.ScimDeleteAsync($"/scim/v2/Users/{tenant.AdminId}"), HttpStatusCode.BadRequest, "mutability");

        Assert.True((await tenant.ApiUserAsync(tenant.AdminId.ToString()))!.Value.GetProperty("accountEnabled").GetBoolean());
        Assert.Equal(sequence, await tenant.SequenceAsync());
    }
}
