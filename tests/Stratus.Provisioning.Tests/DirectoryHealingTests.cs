using System.Net;
using System.Net.Http.Json;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Stratus.Provisioning.Tests.Support;

namespace Stratus.Provisioning.Tests;

/// <summary>
/// Identity's deletions that provisioning never received are healed: a lost userDeleted by the reconciliation
/// (the user is not in identity's state any more), a tenant's deletion by identity.tenantDeleted.v1, which takes
/// all of the tenant's provisioning data and VMs.
/// </summary>
[Collection(RestartedHost.Collection)]
public sealed class DirectoryHealingTests(RestartedHost host)
{
    [Fact]
    public async Task A_user_deleted_in_identity_whose_event_was_lost_is_found_deleted_by_the_reconciliation()
    {
        var tenant = await host.CreateTenantAsync("lostdel");
        var ada = await tenant.ProvisionAsync();

        // Ada is deleted while provisioning is away; the event that says so is lost before it is delivered.
        await host.RestartAsync(RestartedHost.WithoutProvisioning);
        tenant = await tenant.ReconnectAsync();
        Assert.Equal(HttpStatusCode.NoContent, (await tenant.Admin.DeleteAsync($"/api/v1/users/{ada.UserId}")).StatusCode);
        var lost = Assert.Single(await Eventually.UntilAsync(() => host.WaitingAsync("provisioning", "identity.userDeleted.v1"), l => l.Count > 0,
            "the deletion to wait in provisioning's queue"));
        await using (var platform = host.OpenPlatformStore())
        {
            Assert.Equal(1, await platform.QueueMessages.Where(m => m.Id == lost.Id).ExecuteDeleteAsync());
        }

        await host.RestartAsync();
        tenant = await tenant.ReconnectAsync();
        var grace = await tenant.WaitForCloudPcAsync(p => p.Id == ada.CloudPc.Id && p.Status == "inGracePeriod", "Ada's Cloud PC to enter its grace period");
        Assert.NotNull(grace.GracePeriodEndDateTime);
        await using var db = host.OpenStore();
        Assert.True((await db.Users.SingleAsync(u => u.UserId == ada.UserId)).Deleted);
        tenant.Dispose();
    }

    [Fact]
    public async Task A_deleted_tenant_leaves_no_provisioning_data_and_its_vms_are_deleted()
    {
        var gone = await host.CreateTenantAsync("gone");
        var ada = await gone.ProvisionAsync();
        Assert.Equal(HttpStatusCode.Created, (await gone.Admin.PostAsJsonAsync("/api/v1/userSettings", new { displayName = "Everyone" })).StatusCode);
        await gone.WaitForSuccessAsync(await gone.ActAsync(ada.CloudPc.Id, "createSnapshot"));
        using (var adaClient = await gone.SignInAsync("ada"))
        {
            var ticket = await adaClient.PostAsync($"/api/v1/me/cloudPCs/{ada.CloudPc.Id}/connect", null);
            Assert.True(ticket.StatusCode == HttpStatusCode.OK, await ticket.Content.ReadAsStringAsync());
        }

        Assert.Equal(1, await GatewayTicketsAsync(gone.Id));
        using var stays = await host.CreateTenantAsync("stays");
        var bob = await stays.ProvisionAsync("bob");

        // Deleted where provisioning does not run, identity sees no Cloud PC and lets the tenant go with one still there.
        await host.RestartAsync(RestartedHost.WithoutProvisioning);
        Assert.Equal(HttpStatusCode.OK, (await host.Operator.PostAsync($"/api/v1/tenants/{gone.Id}/suspend", null)).StatusCode);
        var deleted = await host.Operator.DeleteAsync($"/api/v1/tenants/{gone.Id}");
        Assert.True(deleted.StatusCode == HttpStatusCode.NoContent, await deleted.Content.ReadAsStringAsync());

        await host.RestartAsync();
        await Eventually.UntilAsync(() => host.AllVmsAsync(gone.Id), l => l.Count == 0, "the deleted tenant's VM to be deleted");
        await Eventually.UntilAsync(async () =>
        {
            await using var store = host.OpenStore();
            return await store.CloudPcs.CountAsync(p => p.TenantId == gone.Id);
        }, n => n == 0, "the deleted tenant's Cloud PC to be deprovisioned");

        await using var db = host.OpenStore();
        var left = new Dictionary<string, int>
        {
            ["policies"] = await db.Policies.CountAsync(p => p.TenantId == gone.Id),
            ["assignments"] = await db.Assignments.CountAsync(a => a.TenantId == gone.Id),
            ["users"] = await db.Users.CountAsync(u => u.TenantId == gone.Id),
            ["memberships"] = await db.Memberships.CountAsync(m => m.TenantId == gone.Id),
            ["licenses"] = await db.Licenses.CountAsync(l => l.TenantId == gone.Id),
            ["userSettings"] = await db.UserSettings.CountAsync(s => s.TenantId == gone.Id),
            ["restorePoints"] = await db.RestorePoints.CountAsync(r => r.TenantId == gone.Id),
            ["operations"] = await db.Operations.CountAsync(o => o.TenantId == gone.Id),
        };
        Assert.All(left, kv => Assert.True(kv.Value == 0, $"{kv.Value} {kv.Key} of the deleted tenant are left"));

        // The gateway lets its connect tickets (and sessions) go too.
        await Eventually.UntilAsync(() => GatewayTicketsAsync(gone.Id), n => n == 0, "the gateway to delete the tenant's connect tickets");

        // The other tenant keeps its Cloud PC and VM.
        using var staysNow = await stays.ReconnectAsync();
        var other = await staysNow.GetCloudPcAsync(bob.CloudPc.Id);
        Assert.Equal("provisioned", other.Status);
        Assert.Single(await host.VmsAsync(stays.Id));
        gone.Dispose();
    }

    /// <summary>The tenant's connect tickets in the gateway's store (a service this test project does not reference).</summary>
    private async Task<long> GatewayTicketsAsync(Guid tenant)
    {
        await using var connection = new SqliteConnection($"Data Source={Path.Combine(host.DataPath, "db", "gateway.db")}");
        await connection.OpenAsync();
        await using var count = connection.CreateCommand();
        count.CommandText = "SELECT COUNT(*) FROM connect_tokens WHERE upper(TenantId) = upper($tenant)";
        count.Parameters.AddWithValue("$tenant", tenant.ToString());
        return (long)(await count.ExecuteScalarAsync())!;
    }
}
