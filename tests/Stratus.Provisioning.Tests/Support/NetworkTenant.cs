using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Stratus.Provisioning.Tests.Support;

/// <summary>What the network connection tests do through a tenant's public API.</summary>
public static class NetworkTenant
{
    /// <summary>A policy (region local-1 unless a connection says otherwise) naming these connections in this order.</summary>
    public static async Task<PolicyBody> CreateNetworkPolicyAsync(this TestTenant tenant, string name, params string[] connectionIds)
    {
        var response = await tenant.PostPolicyAsync(new
        {
            displayName = name, imageId = ProvisioningHost.ImageId, imageType = "gallery", regionNames = new[] { "local-1" }, networkConnectionIds = connectionIds,
        });
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<PolicyBody>())!;
    }

    /// <summary>A licensed user in a group the policy is assigned to; returns the user's id once their Cloud PC exists.</summary>
    public static async Task<Guid> AddUserOfPolicyAsync(this TestTenant tenant, PolicyBody policy, string userName)
    {
        var user = await tenant.CreateUserAsync(userName);
        var group = await tenant.CreateGroupAsync(userName + " group");
        await tenant.AddMemberAsync(group, user);
        await tenant.AssignLicenseAsync(user, Plans.Small);
        var current = await tenant.GetPolicyAsync(policy.Id);
        await tenant.AssignAsync(policy.Id, [.. current.Assignments.Select(a => (a.Target.GroupId, a.Target.ServicePlanId)), (group, Plans.Small)]);
        return user;
    }

    public static async Task<List<CloudPcNetworkBody>> NetworkCloudPcsAsync(this TestTenant tenant) =>
        (await tenant.Admin.GetFromJsonAsync<Page<CloudPcNetworkBody>>("/api/v1/cloudPCs?$top=100"))!.Value;

    /// <summary>Waits until the user's Cloud PC is provisioned or failed and returns it.</summary>
    public static async Task<CloudPcNetworkBody> SettledCloudPcAsync(this TestTenant tenant, Guid user, TimeSpan? timeout = null) =>
        (await Eventually.UntilAsync(tenant.NetworkCloudPcsAsync, l => l.Any(p => p.UserId == user && p.Status is "provisioned" or "failed"),
            $"user {user}'s Cloud PC to be provisioned or failed", timeout ?? TimeSpan.FromSeconds(120)))
        .First(p => p.UserId == user);

    /// <summary>The tenant's audit records of one activity about a Cloud PC.</summary>
    public static async Task<List<string>> AuditAsync(this TestTenant tenant, Guid cloudPc, string activity)
    {
        var page = await tenant.Admin.GetFromJsonAsync<JsonElement>("/api/v1/auditEvents?$top=1000");
        return page.GetProperty("value").EnumerateArray()
            .Where(e => e.GetProperty("activity").GetString() == activity
                && e.GetProperty("resources").EnumerateArray().Any(r => r.GetProperty("resourceId").GetString() == cloudPc.ToString()))
            .Select(e => e.GetProperty("displayName").GetString()!).ToList();
    }

    /// <summary>Waits until the Cloud PC has at least <paramref name="count"/> audit records of the activity.</summary>
    public static Task<List<string>> WaitForAuditAsync(this TestTenant tenant, Guid cloudPc, string activity, int count = 1, TimeSpan? timeout = null) =>
        Eventually.UntilAsync(() => tenant.AuditAsync(cloudPc, activity), l => l.Count >= count, $"{count} audit record(s) {activity} of Cloud PC {cloudPc}", timeout ?? TimeSpan.FromSeconds(90));
}
