using System.Net;
using Stratus.Identity.Scim.Tests.Support;
using static Stratus.Identity.Scim.Tests.Support.Scim;

namespace Stratus.Identity.Scim.Tests;

/// <summary>/ServiceProviderConfig, /Schemas and /ResourceTypes: what an identity provider reads to learn the service.</summary>
[Collection(ScimCollection.Name)]
public sealed class ScimDiscoveryTests(ScimHosts hosts)
{
    private Task<ScimTenant> TenantAsync() => hosts.SharedAsync("discovery", () => hosts.CreateTenantAsync(ScimHosts.Sqlite, "disco"));

    [Fact]
    public async Task ServiceProviderConfig_SaysPatchAndFilterAreSupported_WithBearerTokens()
    {
        var tenant = await TenantAsync();

        var config = AssertStatus(await tenant.Scim.ScimGetAsync("/scim/v2/ServiceProviderConfig"), HttpStatusCode.OK);

        Assert.Equal(["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"], config.GetProperty("schemas").EnumerateArray().Select(s => s.GetString()));
        Assert.True(config.GetProperty("patch").GetProperty("supported").GetBoolean());
        Assert.True(config.GetProperty("filter").GetProperty("supported").GetBoolean());
        Assert.Equal(200, config.GetProperty("filter").GetProperty("maxResults").GetInt32());
        Assert.False(config.GetProperty("bulk").GetProperty("supported").GetBoolean());
        Assert.False(config.GetProperty("etag").GetProperty("supported").GetBoolean());
        Assert.Equal("oauthbearertoken", config.GetProperty("authenticationSchemes")[0].GetProperty("type").GetString());
    }

    [Fact]
    public async Task Schemas_DescribeUserAndGroup()
    {
        var tenant = await TenantAsync();

        var schemas = AssertList(await tenant.Scim.ScimGetAsync("/scim/v2/Schemas"), 2);
        Assert.Equal([UserSchema, GroupSchema], schemas.Select(s => s.GetProperty("id").GetString()));
        var user = AssertStatus(await tenant.Scim.ScimGetAsync($"/scim/v2/Schemas/{UserSchema}"), HttpStatusCode.OK);
        var userName = user.GetProperty("attributes").EnumerateArray().Single(a => a.GetProperty("name").GetString() == "userName");
        Assert.True(userName.GetProperty("required").GetBoolean());
        Assert.Equal("server", userName.GetProperty("uniqueness").GetString());
        var group = AssertStatus(await tenant.Scim.ScimGetAsync($"/scim/v2/Schemas/{GroupSchema}"), HttpStatusCode.OK);
        Assert.Contains(group.GetProperty("attributes").EnumerateArray(), a => a.GetProperty("name").GetString() == "members");
        AssertError(await tenant.Scim.ScimGetAsync("/scim/v2/Schemas/urn:example:unknown"), HttpStatusCode.NotFound, null);
    }

    [Fact]
    public async Task ResourceTypes_NameTheUsersAndGroupsEndpoints()
    {
        var tenant = await TenantAsync();

        var types = AssertList(await tenant.Scim.ScimGetAsync("/scim/v2/ResourceTypes"), 2);
        Assert.Equal(["/Users", "/Groups"], types.Select(t => t.GetProperty("endpoint").GetString()));
        var user = AssertStatus(await tenant.Scim.ScimGetAsync("/scim/v2/ResourceTypes/User"), HttpStatusCode.OK);
        Assert.Equal(UserSchema, user.GetProperty("schema").GetString());
        Assert.Equal(GroupSchema, AssertStatus(await tenant.Scim.ScimGetAsync("/scim/v2/ResourceTypes/Group"), HttpStatusCode.OK).GetProperty("schema").GetString());
        AssertError(await tenant.Scim.ScimGetAsync("/scim/v2/ResourceTypes/Device"), HttpStatusCode.NotFound, null);
    }

    [Fact]
    public async Task UnsupportedMethod_Returns405InScimShape()
    {
        var tenant = await TenantAsync();

        AssertError(await tenant.Scim.ScimPutAsync("/scim/v2/ServiceProviderConfig", "{}"), HttpStatusCode.MethodNotAllowed, null);
        AssertError(await tenant.Scim.ScimSendAsync(HttpMethod.Patch, "/scim/v2/Users", Patch("""{"op":"remove","path":"members"}""")), HttpStatusCode.MethodNotAllowed, null);
    }
}
