using System.Net;
using System.Net.Http.Json;
using Stratus.Identity.Ldap.Tests.Support;
using static Stratus.Identity.Ldap.Tests.Support.SlapdServer;

namespace Stratus.Identity.Ldap.Tests;

/// <summary>Syncs from a real slapd into the real stratus process, on SQLite and on PostgreSQL.</summary>
[Collection(StratusHostsCollection.Name)]
public sealed class LdapSyncTests(StratusHosts hosts)
{
    [Theory]
    [InlineData(StratusHosts.Sqlite)]
    [InlineData(StratusHosts.Postgres)]
    public async Task Sync_ImportsUsersGroupsAndMemberships_ThenAppliesChanges_WithOneEventPerChange(string provider)
    {
        await using var ldap = await StartAsync(Tree.People);
        using var tenant = await TenantSession.CreateAsync(hosts, provider);
        await tenant.PutConfigurationAsync(TenantSession.Configuration(ldap));
        var before = await tenant.SequenceAsync();

        var first = await tenant.SyncAsync();

        Assert.Equal("succeeded", first.Result);
        Assert.Equal("manual", first.Trigger);
        Assert.Equal(new CountsBody(3, 0, 0, 2, 0, 0, 3, 0, 0), first.Counts);
        Assert.Equal(before + 6, await tenant.SequenceAsync());
        var alice = await tenant.UserAsync("alice");
        Assert.Equal(("Alice Liddell", "Alice", "Liddell", "alice@mail.example.test"), (alice.DisplayName, alice.GivenName, alice.Surname, alice.Mail));
        Assert.Equal((true, true, "ldap", UserDn("alice")), (alice.AccountEnabled, alice.OnPremisesSyncEnabled, alice.CreationType, alice.ExternalId));
        Assert.Equal(["engineering", "sales"], (await tenant.GroupsAsync()).Where(g => g.OnPremisesSyncEnabled).Select(g => g.DisplayName).Order());
        Assert.Equal(["alice", "bob"], await tenant.MembersAsync("engineering"));
        Assert.Equal(["carol"], await tenant.MembersAsync("sales"));

        // A local user in an LDAP group is the administrator's business, not the sync's.
        var local = await CreateLocalUserAsync(tenant, "lena");
        var engineering = (await tenant.GroupsAsync()).Single(g => g.DisplayName == "engineering");
        using (var added = await tenant.Admin.PostAsJsonAsync($"/api/v1/groups/{engineering.Id}/members", new { id = local.Id }))
        {
            Assert.Equal(HttpStatusCode.NoContent, added.StatusCode);
        }

        var unchanged = await tenant.SequenceAsync();
        var again = await tenant.SyncAsync();
        Assert.Equal(("succeeded", 0), (again.Result, again.Counts.Events + again.Counts.GroupsCreated + again.Counts.GroupsUpdated));
        Assert.Equal(unchanged, await tenant.SequenceAsync());

        ldap.Change(
            Replace(UserDn("bob"), "cn", "Robert Builder"),
            NewUser("dave", "Dave Grohl", "Dave", "Grohl"),
            AddMember("sales", "dave"),
            RemoveMember("engineering", "alice"),
            Delete(UserDn("carol")));
        var changed = await tenant.SyncAsync();

        // bob updated, dave created and added to sales, alice out of engineering, carol disabled and out of sales.
        Assert.Equal("succeeded", changed.Result);
        Assert.Equal(new CountsBody(1, 1, 1, 0, 0, 0, 1, 2, 0), changed.Counts);
        Assert.Equal(unchanged + 6, await tenant.SequenceAsync());
        Assert.Equal("Robert Builder", (await tenant.UserAsync("bob")).DisplayName);
        Assert.True((await tenant.UserAsync("dave")).AccountEnabled);
        Assert.False((await tenant.UserAsync("carol")).AccountEnabled, "A user deleted from LDAP is disabled.");
        Assert.True((await tenant.UserAsync("alice")).AccountEnabled);
        Assert.Equal(["bob", "lena"], await tenant.MembersAsync("engineering"));
        Assert.Equal(["dave"], await tenant.MembersAsync("sales"));
        var lena = await tenant.UserAsync("lena");
        Assert.Equal((true, "local", "Lena Local"), (lena.AccountEnabled, lena.CreationType, lena.DisplayName));

        var settled = await tenant.SyncAsync();
        Assert.Equal(0, settled.Counts.Events);
        Assert.Equal(unchanged + 6, await tenant.SequenceAsync());

        // Every change is audited, by the sync (the audit log fills from the durable queue).
        var audited = await tenant.WaitForAuditAsync(events => events.Count(e => e.Actor.UserPrincipalName == "ldap-sync") >= 14, "14 audit records of the sync");
        Assert.Equal(
            ["AddGroupMember x4", "CreateGroup x2", "CreateUser x4", "DisableUser x1", "RemoveGroupMember x2", "UpdateUser x1"],
            audited.Where(e => e.Actor.UserPrincipalName == "ldap-sync").GroupBy(e => e.ActivityType)
                .Select(g => $"{g.Key} x{g.Count()}").Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData(StratusHosts.Sqlite)]
    [InlineData(StratusHosts.Postgres)]
    public async Task Sync_WhenTheServerIsDown_FailsWithTheReason_AndDisablesNobody(string provider)
    {
        await using var ldap = await StartAsync(Tree.People);
        using var tenant = await TenantSession.CreateAsync(hosts, provider);
        await tenant.PutConfigurationAsync(TenantSession.Configuration(ldap));
        var succeeded = await tenant.SyncAsync();
        Assert.Equal("succeeded", succeeded.Result);
        var sequence = await tenant.SequenceAsync();

        await ldap.StopAsync();
        var failed = await tenant.SyncAsync();

        Assert.Equal(("failed", "serverUnavailable"), (failed.Result, failed.Error));
        Assert.Contains(ldap.Url, failed.Reason, StringComparison.Ordinal);
        Assert.Contains("Nothing was changed", failed.Reason, StringComparison.Ordinal);
        Assert.Equal(0, failed.Counts.Events);
        Assert.Equal(succeeded.FinishedDateTime, failed.LastSuccessDateTime);
        Assert.Equal(sequence, await tenant.SequenceAsync());
        Assert.All((await tenant.UsersAsync()).Where(u => u.OnPremisesSyncEnabled), u => Assert.True(u.AccountEnabled, u.UserPrincipalName));
        Assert.Equal(["carol"], await tenant.MembersAsync("sales"));
    }

    [Theory]
    [InlineData(StratusHosts.Sqlite)]
    [InlineData(StratusHosts.Postgres)]
    public async Task Sync_WithAWrongBindPassword_FailsWithAClearReason_AndDisablesNobody(string provider)
    {
        await using var ldap = await StartAsync(Tree.People);
        using var tenant = await TenantSession.CreateAsync(hosts, provider);
        await tenant.PutConfigurationAsync(TenantSession.Configuration(ldap));
        Assert.Equal("succeeded", (await tenant.SyncAsync()).Result);
        var sequence = await tenant.SequenceAsync();

        var wrong = TenantSession.Configuration(ldap);
        wrong["bindPassword"] = "not-the-reader-password";
        await tenant.PutConfigurationAsync(wrong);
        var failed = await tenant.SyncAsync();

        Assert.Equal(("failed", "invalidCredentials"), (failed.Result, failed.Error));
        Assert.Contains($"refused the bind DN '{ReaderDn}' or its password", failed.Reason, StringComparison.Ordinal);
        Assert.Equal(sequence, await tenant.SequenceAsync());
        Assert.Equal(3, (await tenant.UsersAsync()).Count(u => u.OnPremisesSyncEnabled && u.AccountEnabled));
    }

    [Theory]
    [InlineData(StratusHosts.Sqlite)]
    [InlineData(StratusHosts.Postgres)]
    public async Task Sync_WhenTheReadIsIncomplete_ChangesNothing(string provider)
    {
        await using var ldap = await StartAsync(Tree.People);
        using var tenant = await TenantSession.CreateAsync(hosts, provider);
        await tenant.PutConfigurationAsync(TenantSession.Configuration(ldap));
        Assert.Equal("succeeded", (await tenant.SyncAsync()).Result);
        ldap.Change(Delete(UserDn("carol")));
        var sequence = await tenant.SequenceAsync();

        // The server stops after one entry (size limit exceeded): carol's absence must not count.
        var limited = TenantSession.Configuration(ldap);
        limited["bindDn"] = LimitedDn;
        limited["bindPassword"] = LimitedPassword;
        await tenant.PutConfigurationAsync(limited);
        var sizeLimit = await tenant.SyncAsync();
        Assert.Equal(("failed", "sizeLimitExceeded"), (sizeLimit.Result, sizeLimit.Error));

        // One base DN that does not exist fails the whole read, although the other one answers.
        var missingBase = TenantSession.Configuration(ldap);
        missingBase["baseDns"] = new[] { People, "ou=nowhere," + Suffix };
        await tenant.PutConfigurationAsync(missingBase);
        var noSuchBase = await tenant.SyncAsync();
        Assert.Equal(("failed", "searchFailed"), (noSuchBase.Result, noSuchBase.Error));
        Assert.Contains("ou=nowhere", noSuchBase.Reason, StringComparison.Ordinal);

        // A filter that matches nobody looks like everyone left; the sync refuses to believe it.
        var empty = TenantSession.Configuration(ldap);
        empty["userFilter"] = "(uid=nobody-has-this)";
        await tenant.PutConfigurationAsync(empty);
        var emptyRead = await tenant.SyncAsync();
        Assert.Equal(("failed", "emptyRead"), (emptyRead.Result, emptyRead.Error));

        Assert.Equal(sequence, await tenant.SequenceAsync());
        Assert.True((await tenant.UserAsync("carol")).AccountEnabled);
        Assert.Equal(["carol"], await tenant.MembersAsync("sales"));

        // With the complete read back, carol's departure counts.
        await tenant.PutConfigurationAsync(TenantSession.Configuration(ldap));
        var complete = await tenant.SyncAsync();
        Assert.Equal(("succeeded", 1, 1), (complete.Result, complete.Counts.Disabled, complete.Counts.MembershipsRemoved));
        Assert.False((await tenant.UserAsync("carol")).AccountEnabled);
    }

    [Theory]
    [InlineData(StratusHosts.Sqlite)]
    [InlineData(StratusHosts.Postgres)]
    public async Task Sync_WithEntryUuidAsTheId_FollowsARenamedEntry(string provider)
    {
        await using var ldap = await StartAsync(Tree.People);
        using var tenant = await TenantSession.CreateAsync(hosts, provider);
        var configuration = TenantSession.Configuration(ldap);
        configuration["attributes"] = new Dictionary<string, string> { ["userName"] = "uid", ["displayName"] = "cn", ["externalId"] = "entryUUID" };
        await tenant.PutConfigurationAsync(configuration);
        Assert.Equal("succeeded", (await tenant.SyncAsync()).Result);
        var bob = await tenant.UserAsync("bob");
        Assert.True(Guid.TryParse(bob.ExternalId, out _), $"entryUUID is the id: {bob.ExternalId}");

        // Renamed, and (as OpenLDAP's refint overlay would) renamed in its group too.
        ldap.Change(
            new System.DirectoryServices.Protocols.ModifyDNRequest(UserDn("bob"), People, "uid=robert"),
            RemoveMember("engineering", "bob"),
            AddMember("engineering", "robert"));
        var renamed = await tenant.SyncAsync();

        Assert.Equal(new CountsBody(0, 1, 0, 0, 0, 0, 0, 0, 0), renamed.Counts);
        var robert = await tenant.UserAsync("robert");
        Assert.Equal((bob.Id, bob.ExternalId, true), (robert.Id, robert.ExternalId, robert.AccountEnabled));
        Assert.DoesNotContain(await tenant.UsersAsync(), u => u.UserPrincipalName == tenant.Upn("bob"));
        Assert.Equal(["alice", "robert"], await tenant.MembersAsync("engineering"));
    }

    private static async Task<UserBody> CreateLocalUserAsync(TenantSession tenant, string name)
    {
        using var response = await tenant.Admin.PostAsJsonAsync("/api/v1/users",
            new { userPrincipalName = tenant.Upn(name), displayName = "Lena Local", passwordProfile = new { password = "local-user-password-1" } });
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, body);
        return System.Text.Json.JsonSerializer.Deserialize<UserBody>(body, System.Text.Json.JsonSerializerOptions.Web)!;
    }
}
