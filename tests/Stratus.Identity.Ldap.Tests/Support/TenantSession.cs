using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Stratus.Testing;

namespace Stratus.Identity.Ldap.Tests.Support;

public sealed record UserBody(Guid Id, string UserPrincipalName, string DisplayName, string? GivenName, string? Surname, string? Mail,
    bool AccountEnabled, string? ExternalId, bool OnPremisesSyncEnabled, string CreationType);

public sealed record GroupBody(Guid Id, string DisplayName, string? ExternalId, bool OnPremisesSyncEnabled);

public sealed record PageBody<T>(IReadOnlyList<T> Value, int TotalCount);

public sealed record CountsBody(int Created, int Updated, int Disabled, int GroupsCreated, int GroupsUpdated, int GroupsDeleted,
    int MembershipsAdded, int MembershipsRemoved, int Skipped)
{
    /// <summary>The changes that each publish one directory event.</summary>
    public int Events => Created + Updated + Disabled + GroupsDeleted + MembershipsAdded + MembershipsRemoved;
}

public sealed record StatusBody(string Result, Guid? SyncId, string? Trigger, DateTimeOffset? StartedDateTime, DateTimeOffset? FinishedDateTime,
    string? Error, string? Reason, CountsBody Counts, IReadOnlyList<string> Warnings, DateTimeOffset? LastSuccessDateTime, bool InProgress,
    DateTimeOffset NextSyncDateTime)
{
    public override string ToString() => $"{Result} {Trigger} {SyncId} {Error}: {Reason} {Counts}";
}

public sealed record SyncAcceptedBody(Guid SyncId, string Status);

public sealed record AuditActorBody(Guid? Id, string UserPrincipalName);

public sealed record AuditEventBody(string DisplayName, string ActivityType, string ActivityResult, AuditActorBody Actor);

/// <summary>A tenant of its own on one host, created by the operator, with its administrator signed in.</summary>
public sealed class TenantSession : IDisposable
{
    public const string ConfigurationPath = "/api/v1/ldapConfiguration";
    public const string AdminPassword = "tenant-admin-password-1";

    private TenantSession(StratusProcess stratus, Guid tenantId, string domain, HttpClient admin)
    {
        Stratus = stratus;
        TenantId = tenantId;
        Domain = domain;
        Admin = admin;
    }

    public StratusProcess Stratus { get; }

    public Guid TenantId { get; }

    public string Domain { get; }

    public HttpClient Admin { get; }

    public static async Task<TenantSession> CreateAsync(StratusHosts hosts, string provider)
    {
        var stratus = hosts[provider];
        var operatorClient = hosts.Operator(provider);
        var domain = $"t{Guid.NewGuid():N}"[..13] + ".example";
        using var response = await operatorClient.PostAsJsonAsync("/api/v1/tenants",
            new { displayName = "LDAP test " + domain, domain, admin = new { userName = "admin", password = AdminPassword } });
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"Creating the tenant answered {(int)response.StatusCode}: {body}");
        var tenantId = JsonDocument.Parse(body).RootElement.GetProperty("tenant").GetProperty("id").GetGuid();
        return new TenantSession(stratus, tenantId, domain, await stratus.SignedInClientAsync("admin@" + domain, AdminPassword));
    }

    public string Upn(string name) => $"{name}@{Domain}";

    /// <summary>A configuration for the test server, reading users and groups under the whole suffix.</summary>
    public static Dictionary<string, object?> Configuration(SlapdServer ldap, string interval = "PT1H") => new()
    {
        ["url"] = ldap.Url,
        ["bindDn"] = SlapdServer.ReaderDn,
        ["bindPassword"] = SlapdServer.ReaderPassword,
        ["baseDns"] = new[] { SlapdServer.People, SlapdServer.Groups },
        ["userFilter"] = "(objectClass=inetOrgPerson)",
        ["groupFilter"] = "(objectClass=groupOfNames)",
        ["attributes"] = new Dictionary<string, string> { ["userName"] = "uid", ["displayName"] = "cn", ["member"] = "member" },
        ["syncInterval"] = interval,
    };

    public async Task<JsonElement> PutConfigurationAsync(object configuration)
    {
        using var response = await Admin.PutAsJsonAsync(ConfigurationPath, configuration);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"PUT {ConfigurationPath} answered {(int)response.StatusCode}: {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    /// <summary>Asks for a sync and waits until its status is recorded.</summary>
    public async Task<StatusBody> SyncAsync()
    {
        using var response = await Admin.PostAsync(ConfigurationPath + "/sync", null);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"POST sync answered {(int)response.StatusCode}: {body}");
        var accepted = JsonSerializer.Deserialize<SyncAcceptedBody>(body, JsonSerializerOptions.Web)!;
        return await WaitForStatusAsync(s => s.SyncId == accepted.SyncId, $"sync {accepted.SyncId} to finish");
    }

    public async Task<StatusBody> WaitForStatusAsync(Func<StatusBody, bool> done, string what, TimeSpan? timeout = null)
    {
        var deadline = Stopwatch.StartNew();
        StatusBody? last = null;
        while (deadline.Elapsed < (timeout ?? TimeSpan.FromSeconds(60)))
        {
            last = await StatusAsync();
            if (done(last))
            {
                return last;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"Waited for {what}; last status: {last}");
    }

    public async Task<StatusBody> StatusAsync()
    {
        using var response = await Admin.GetAsync(ConfigurationPath + "/status");
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET status answered {(int)response.StatusCode}: {body}");
        return JsonSerializer.Deserialize<StatusBody>(body, JsonSerializerOptions.Web)!;
    }

    /// <summary>The sequence number of the tenant's last directory event.</summary>
    public async Task<long> SequenceAsync()
    {
        using var document = JsonDocument.Parse(await Admin.GetStringAsync("/api/v1/directoryState?$top=1"));
        return document.RootElement.GetProperty("sequence").GetInt64();
    }

    public async Task<IReadOnlyList<UserBody>> UsersAsync() =>
        (await Admin.GetFromJsonAsync<PageBody<UserBody>>("/api/v1/users?$top=1000", JsonSerializerOptions.Web))!.Value;

    public async Task<UserBody> UserAsync(string name) =>
        Assert.Single(await UsersAsync(), u => u.UserPrincipalName == Upn(name));

    public async Task<IReadOnlyList<GroupBody>> GroupsAsync() =>
        (await Admin.GetFromJsonAsync<PageBody<GroupBody>>("/api/v1/groups?$top=1000", JsonSerializerOptions.Web))!.Value;

    /// <summary>The user names (without the domain) of a group's members, sorted.</summary>
    public async Task<IReadOnlyList<string>> MembersAsync(string group)
    {
        var id = Assert.Single(await GroupsAsync(), g => g.DisplayName == group).Id;
        var members = await Admin.GetFromJsonAsync<PageBody<UserBody>>($"/api/v1/groups/{id}/members?$top=1000", JsonSerializerOptions.Web);
        return members!.Value.Select(u => u.UserPrincipalName.Split('@')[0]).Order(StringComparer.Ordinal).ToList();
    }

    /// <summary>Waits until the tenant's audit log satisfies the condition, and returns it.</summary>
    public async Task<IReadOnlyList<AuditEventBody>> WaitForAuditAsync(Func<IReadOnlyList<AuditEventBody>, bool> done, string what)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var events = (await Admin.GetFromJsonAsync<PageBody<AuditEventBody>>("/api/v1/auditEvents?$top=1000", JsonSerializerOptions.Web))!.Value;
            if (done(events))
            {
                return events;
            }

            if (deadline.Elapsed > TimeSpan.FromSeconds(60))
            {
                throw new TimeoutException($"Waited for {what}; the log has: {string.Join("; ", events.Select(e => $"{e.Actor.UserPrincipalName} {e.ActivityType}"))}");
            }

            await Task.Delay(200);
        }
    }

    public void Dispose() => Admin.Dispose();
}
