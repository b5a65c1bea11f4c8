using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Stratus.Identity.Ldap.Tests.Support;

namespace Stratus.Identity.Ldap.Tests;

/// <summary>
/// The tenant always comes from the caller's token: tenant B's administrator reaches only B's configuration,
/// whatever the request names. One test per endpoint.
/// </summary>
[Collection(StratusHostsCollection.Name)]
public sealed class LdapTenantIsolationTests(StratusHosts hosts)
{
    // Nothing listens on port 1: a sync against it fails at once, which is all these tests need from LDAP.
    private const string UnreachableUrl = "ldap://127.0.0.1:1";

    [Theory]
    [InlineData(StratusHosts.Sqlite)]
    [InlineData(StratusHosts.Postgres)]
    public async Task Get_ByAnotherTenantsAdmin_DoesNotShowTheConfiguration(string provider)
    {
        var (a, b) = await TwoTenantsAsync(provider);
        using (a)
        using (b)
        {
            await a.PutConfigurationAsync(Configuration("cn=reader-a,dc=a,dc=test"));

            using var response = await b.Admin.GetAsync($"{TenantSession.ConfigurationPath}?tenantId={a.TenantId}");

            await LdapConfigurationApiTests.IsProblemAsync(response, HttpStatusCode.NotFound);
        }
    }

    [Theory]
    [InlineData(StratusHosts.Sqlite)]
    [InlineData(StratusHosts.Postgres)]
    public async Task Put_ByAnotherTenantsAdmin_ChangesOnlyItsOwn(string provider)
    {
        var (a, b) = await TwoTenantsAsync(provider);
        using (a)
        using (b)
        {
            await a.PutConfigurationAsync(Configuration("cn=reader-a,dc=a,dc=test"));
            var before = await a.Admin.GetStringAsync(TenantSession.ConfigurationPath);

            using var response = await b.Admin.PutAsJsonAsync($"{TenantSession.ConfigurationPath}?tenantId={a.TenantId}", Configuration("cn=reader-b,dc=b,dc=test"));

            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(before, await a.Admin.GetStringAsync(TenantSession.ConfigurationPath));
            Assert.Equal("cn=reader-b,dc=b,dc=test", BindDn(await b.Admin.GetStringAsync(TenantSession.ConfigurationPath)));
        }
    }

    [Theory]
    [InlineData(StratusHosts.Sqlite)]
    [InlineData(StratusHosts.Postgres)]
    public async Task Delete_ByAnotherTenantsAdmin_LeavesTheConfiguration(string provider)
    {
        var (a, b) = await TwoTenantsAsync(provider);
        using (a)
        using (b)
        {
            await a.PutConfigurationAsync(Configuration("cn=reader-a,dc=a,dc=test"));

            using var response = await b.Admin.DeleteAsync($"{TenantSession.ConfigurationPath}?tenantId={a.TenantId}");

            await LdapConfigurationApiTests.IsProblemAsync(response, HttpStatusCode.NotFound);
            Assert.Equal("cn=reader-a,dc=a,dc=test", BindDn(await a.Admin.GetStringAsync(TenantSession.ConfigurationPath)));
        }
    }

    [Theory]
    [InlineData(StratusHosts.Sqlite)]
    [InlineData(StratusHosts.Postgres)]
    public async Task Sync_ByAnotherTenantsAdmin_RunsOnlyItsOwn(string provider)
    {
        var (a, b) = await TwoTenantsAsync(provider);
        using (a)
        using (b)
        {
            await a.PutConfigurationAsync(Configuration("cn=reader-a,dc=a,dc=test"));
            var aStatus = await a.SyncAsync();
            using (var refused = await b.Admin.PostAsync($"{TenantSession.ConfigurationPath}/sync?tenantId={a.TenantId}", null))
            {
                await LdapConfigurationApiTests.IsProblemAsync(refused, HttpStatusCode.NotFound);
            }

            await b.PutConfigurationAsync(Configuration("cn=reader-b,dc=b,dc=test"));
            var bStatus = await b.SyncAsync();

            Assert.Equal("failed", bStatus.Result);
            Assert.Contains("cn=reader-b", bStatus.Reason + (await b.Admin.GetStringAsync(TenantSession.ConfigurationPath)), StringComparison.Ordinal);
            var aNow = await a.StatusAsync();
            Assert.Equal((aStatus.SyncId, aStatus.FinishedDateTime, aStatus.Reason), (aNow.SyncId, aNow.FinishedDateTime, aNow.Reason));
        }
    }

    [Theory]
    [InlineData(StratusHosts.Sqlite)]
    [InlineData(StratusHosts.Postgres)]
    public async Task Status_ByAnotherTenantsAdmin_IsNotShown(string provider)
    {
        var (a, b) = await TwoTenantsAsync(provider);
        using (a)
        using (b)
        {
            await a.PutConfigurationAsync(Configuration("cn=reader-a,dc=a,dc=test"));
            Assert.Equal("failed", (await a.SyncAsync()).Result);

            using var response = await b.Admin.GetAsync($"{TenantSession.ConfigurationPath}/status?tenantId={a.TenantId}");

            await LdapConfigurationApiTests.IsProblemAsync(response, HttpStatusCode.NotFound);
        }
    }

    private async Task<(TenantSession A, TenantSession B)> TwoTenantsAsync(string provider) =>
        (await TenantSession.CreateAsync(hosts, provider), await TenantSession.CreateAsync(hosts, provider));

    private static Dictionary<string, object?> Configuration(string bindDn) => new()
    {
        ["url"] = UnreachableUrl,
        ["bindDn"] = bindDn,
        ["bindPassword"] = "some-password-1",
        ["baseDns"] = new[] { "dc=example,dc=test" },
    };

    private static string? BindDn(string json) => JsonDocument.Parse(json).RootElement.GetProperty("bindDn").GetString();
}
