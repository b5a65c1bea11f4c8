using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Npgsql;
using Stratus.Identity.Ldap.Tests.Support;

namespace Stratus.Identity.Ldap.Tests;

/// <summary>The configuration endpoints: validation, the write-only password, deletion and who may call them.</summary>
[Collection(StratusHostsCollection.Name)]
public sealed class LdapConfigurationApiTests(StratusHosts hosts)
{
    [Theory]
    [InlineData(StratusHosts.Sqlite)]
    [InlineData(StratusHosts.Postgres)]
    public async Task Put_InvalidConfiguration_Returns400NamingEveryField_AndStoresNothing(string provider)
    {
        using var tenant = await TenantSession.CreateAsync(hosts, provider);

        using var response = await tenant.Admin.PutAsJsonAsync(TenantSession.ConfigurationPath, new
        {
            url = "http://ldap.example.test",
            bindDn = "not a dn",
            baseDns = new[] { "ou=people,dc=example,dc=test", "people" },
            userFilter = "objectClass=inetOrgPerson",
            groupFilter = "(&(objectClass=groupOfNames)",
            attributes = new { userName = "user name!", member = "", mail = "" },
            syncInterval = "every hour",
        });

        var problem = await IsProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.Equal("https://stratus.dev/problems/validation", problem.GetProperty("type").GetString());
        var fields = problem.GetProperty("errors").EnumerateObject().Select(e => e.Name).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(
            ["attributes.member", "attributes.userName", "baseDns[1]", "bindDn", "bindPassword", "groupFilter", "syncInterval", "url", "userFilter"],
            fields);
        using var get = await tenant.Admin.GetAsync(TenantSession.ConfigurationPath);
        await IsProblemAsync(get, HttpStatusCode.NotFound);

        // An empty password would be an unauthenticated bind, which many servers accept without checking anything.
        using var empty = await tenant.Admin.PutAsJsonAsync(TenantSession.ConfigurationPath, new
        {
            url = "ldaps://ldap.example.test:636",
            bindDn = "cn=reader,dc=example,dc=test",
            bindPassword = "",
            baseDns = new[] { "dc=example,dc=test" },
        });
        var emptyProblem = await IsProblemAsync(empty, HttpStatusCode.BadRequest);
        Assert.Equal(["bindPassword"], emptyProblem.GetProperty("errors").EnumerateObject().Select(e => e.Name));
    }

    [Theory]
    [InlineData(StratusHosts.Sqlite)]
    [InlineData(StratusHosts.Postgres)]
    public async Task BindPassword_IsWriteOnly_StoredProtected_AndKeptWhenOmitted(string provider)
    {
        const string password = "Plain-Bind-Password-4711";
        await using var ldap = await SlapdServer.StartAsync(Tree.People);
        using var tenant = await TenantSession.CreateAsync(hosts, provider);
        var configuration = TenantSession.Configuration(ldap);
        configuration["bindPassword"] = password;

        using (var put = await tenant.Admin.PutAsJsonAsync(TenantSession.ConfigurationPath, configuration))
        {
            var body = await put.Content.ReadAsStringAsync();
            Assert.Equal(HttpStatusCode.OK, put.StatusCode);
            Assert.DoesNotContain(password, body, StringComparison.Ordinal);
        }

        var shown = await tenant.Admin.GetStringAsync(TenantSession.ConfigurationPath);
        Assert.DoesNotContain(password, shown, StringComparison.Ordinal);
        var view = JsonDocument.Parse(shown).RootElement;
        Assert.True(view.GetProperty("bindPasswordSet").GetBoolean());
        Assert.False(view.TryGetProperty("bindPassword", out _), shown);
        Assert.Equal(ldap.Url, view.GetProperty("url").GetString());
        Assert.Equal("PT1H", view.GetProperty("syncInterval").GetString());
        Assert.DoesNotContain(password, await StoredBytesAsync(provider, tenant), StringComparison.Ordinal);

        // The slapd reader's password is a different one, so this sync fails; then set the right one.
        Assert.Equal("invalidCredentials", (await tenant.SyncAsync()).Error);
        await tenant.PutConfigurationAsync(TenantSession.Configuration(ldap));

        // Omitted, the stored password stays, and the sync still binds with it.
        var withoutPassword = TenantSession.Configuration(ldap);
        withoutPassword.Remove("bindPassword");
        withoutPassword["syncInterval"] = "PT2H";
        var changed = await tenant.PutConfigurationAsync(withoutPassword);
        Assert.Equal("PT2H", changed.GetProperty("syncInterval").GetString());
        Assert.Equal("succeeded", (await tenant.SyncAsync()).Result);

        // Sending the stored password to another server or DN would hand it over: that needs the password again.
        withoutPassword["url"] = "ldap://attacker.example.test";
        using var moved = await tenant.Admin.PutAsJsonAsync(TenantSession.ConfigurationPath, withoutPassword);
        var problem = await IsProblemAsync(moved, HttpStatusCode.BadRequest);
        Assert.Equal(["bindPassword"], problem.GetProperty("errors").EnumerateObject().Select(e => e.Name));
        Assert.Equal(ldap.Url, JsonDocument.Parse(await tenant.Admin.GetStringAsync(TenantSession.ConfigurationPath)).RootElement.GetProperty("url").GetString());
    }

    [Theory]
    [InlineData(StratusHosts.Sqlite)]
    [InlineData(StratusHosts.Postgres)]
    public async Task Delete_StopsSyncing_AndLeavesTheUsers(string provider)
    {
        await using var ldap = await SlapdServer.StartAsync(Tree.People);
        using var tenant = await TenantSession.CreateAsync(hosts, provider);
        await tenant.PutConfigurationAsync(TenantSession.Configuration(ldap));
        Assert.Equal("succeeded", (await tenant.SyncAsync()).Result);

        using (var deleted = await tenant.Admin.DeleteAsync(TenantSession.ConfigurationPath))
        {
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        }

        foreach (var (method, path) in new[] { (HttpMethod.Get, ""), (HttpMethod.Get, "/status"), (HttpMethod.Post, "/sync"), (HttpMethod.Delete, "") })
        {
            using var response = await tenant.Admin.SendAsync(new HttpRequestMessage(method, TenantSession.ConfigurationPath + path));
            var problem = await IsProblemAsync(response, HttpStatusCode.NotFound);
            Assert.Equal("https://stratus.dev/problems/ldap-not-configured", problem.GetProperty("type").GetString());
        }

        Assert.Equal(3, (await tenant.UsersAsync()).Count(u => u.OnPremisesSyncEnabled && u.AccountEnabled));
    }

    [Theory]
    [InlineData(StratusHosts.Sqlite)]
    [InlineData(StratusHosts.Postgres)]
    public async Task DeletingTheTenant_DeletesItsConfigurationAndStatus(string provider)
    {
        using var tenant = await TenantSession.CreateAsync(hosts, provider);
        await tenant.PutConfigurationAsync(new { url = "ldap://127.0.0.1:1", bindDn = "cn=x,dc=example,dc=test", bindPassword = "p-1", baseDns = new[] { "dc=example,dc=test" } });
        Assert.Equal("failed", (await tenant.SyncAsync()).Result);
        Assert.Equal((1, 1), (await hosts.CountRowsAsync(provider, "ldap_configurations", tenant.TenantId), await hosts.CountRowsAsync(provider, "ldap_sync_status", tenant.TenantId)));

        var operatorClient = hosts.Operator(provider);
        using (var suspended = await operatorClient.PostAsync($"/api/v1/tenants/{tenant.TenantId}/suspend", null))
        {
            Assert.Equal(HttpStatusCode.OK, suspended.StatusCode);
        }

        using (var deleted = await operatorClient.DeleteAsync($"/api/v1/tenants/{tenant.TenantId}"))
        {
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        }

        // The protected bind password goes with the tenant.
        Assert.Equal((0, 0), (await hosts.CountRowsAsync(provider, "ldap_configurations", tenant.TenantId), await hosts.CountRowsAsync(provider, "ldap_sync_status", tenant.TenantId)));
    }

    [Theory]
    [InlineData(StratusHosts.Sqlite)]
    [InlineData(StratusHosts.Postgres)]
    public async Task Endpoints_ForAUserWhoIsNotATenantAdministrator_Return403(string provider)
    {
        using var tenant = await TenantSession.CreateAsync(hosts, provider);
        using (var created = await tenant.Admin.PostAsJsonAsync("/api/v1/users",
                   new { userPrincipalName = tenant.Upn("plain"), displayName = "Plain User", passwordProfile = new { password = "plain-user-password-1" } }))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        using var user = await tenant.Stratus.SignedInClientAsync(tenant.Upn("plain"), "plain-user-password-1");
        foreach (var (method, path) in new[] { (HttpMethod.Get, ""), (HttpMethod.Put, ""), (HttpMethod.Delete, ""), (HttpMethod.Post, "/sync"), (HttpMethod.Get, "/status") })
        {
            using var request = new HttpRequestMessage(method, TenantSession.ConfigurationPath + path);
            if (method == HttpMethod.Put)
            {
                request.Content = JsonContent.Create(new { url = "ldap://127.0.0.1:1", bindDn = "cn=x,dc=y", bindPassword = "p", baseDns = new[] { "dc=y" } });
            }

            using var response = await user.SendAsync(request);
            await IsProblemAsync(response, HttpStatusCode.Forbidden);
        }

        using var anonymous = await tenant.Stratus.Http.GetAsync(TenantSession.ConfigurationPath);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
    }

    internal static async Task<JsonElement> IsProblemAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"Expected {(int)status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(body).RootElement.Clone();
        Assert.Equal((int)status, problem.GetProperty("status").GetInt32());
        return problem;
    }

    /// <summary>Everything the host stored for the tenant's configuration, as text.</summary>
    private async Task<string> StoredBytesAsync(string provider, TenantSession tenant)
    {
        if (provider == StratusHosts.Sqlite)
        {
            // The database file and its write-ahead log: the row may be in either.
            var folder = Path.Combine(tenant.Stratus.DataFolder, "db");
            var text = new StringBuilder();
            foreach (var file in Directory.GetFiles(folder, "identity.db*"))
            {
                await using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                using var reader = new StreamReader(stream, Encoding.Latin1);
                text.Append(await reader.ReadToEndAsync());
            }

            Assert.Contains(tenant.TenantId.ToString().ToUpperInvariant(), text.ToString(), StringComparison.Ordinal);
            return text.ToString();
        }

        await using var connection = new NpgsqlConnection(hosts.PostgresDatabase);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT row_to_json(c)::text FROM identity.ldap_configurations c WHERE \"TenantId\" = @tenant", connection);
        command.Parameters.AddWithValue("tenant", tenant.TenantId);
        var row = await command.ExecuteScalarAsync() as string;
        Assert.NotNull(row);
        return row;
    }
}
