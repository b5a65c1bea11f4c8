using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Stratus.Provisioning.Directory;
using Stratus.Provisioning.Persistence;
using Stratus.Provisioning.Policies;

namespace Stratus.Provisioning.CloudPcs;

/// <summary>
/// Decides which Cloud PCs a user should have and moves their records towards it: one Cloud PC per plan the user
/// holds a license of, when a policy assigns that plan to a group the user is in (the first assigned wins where
/// policies overlap). Level-triggered over provisioning's copy of the directory, so running it twice changes nothing.
/// </summary>
public sealed class AssignmentEvaluator(ProvisioningDbContext db, Lifecycle lifecycle, ServiceClients services, IConfiguration configuration, TimeProvider clock)
{
    /// <summary>Applies the changes to the context; the caller saves them (with whatever else its transaction holds).</summary>
    public async Task EvaluateAsync(Guid tenantId, Guid userId, CancellationToken cancellationToken)
    {
        var user = await db.Users.FirstOrDefaultAsync(u => u.UserId == userId && u.TenantId == tenantId, cancellationToken);
        var (wanted, kept) = user is null || user.Deleted ? ([], []) : await WantedAsync(tenantId, userId, cancellationToken);
        var existing = await db.CloudPcs.Where(p => p.UserId == userId && p.TenantId == tenantId).ToListAsync(cancellationToken);

        foreach (var (planId, policy) in wanted)
        {
            var pc = existing.FirstOrDefault(p => p.ServicePlanId == planId || p.TargetServicePlanId == planId);
            if (pc is null)
            {
                await CreateAsync(user!, planId, policy, cancellationToken);
            }
            else if (pc.Status == CloudPcStatus.InGracePeriod)
            {
                lifecycle.LeaveGracePeriod(pc);
            }
        }

        foreach (var pc in existing.Where(p => !wanted.ContainsKey(p.ServicePlanId) && !kept.Contains(p.ServicePlanId) && !(p.TargetServicePlanId is { } t && wanted.ContainsKey(t))))
        {
            switch (pc.Status)
            {
                case CloudPcStatus.Provisioned:
                    lifecycle.EnterGracePeriod(pc, await db.Policies.FindAsync([pc.ProvisioningPolicyId], cancellationToken));
                    break;
                case CloudPcStatus.Provisioning or CloudPcStatus.Failed or CloudPcStatus.NotProvisioned:
                    // Not yet in use: nothing to keep for a grace period.
                    lifecycle.CompleteActiveOperation(pc, OperationStatus.Failed, "The Cloud PC's license or assignment was removed.");
                    lifecycle.Deprovision(pc);
                    break;
                default:
                    // In grace period, deprovisioning, or an action (resize, restore) that decides when it ends.
                    break;
            }
        }
    }

    /// <summary>
    /// Wanted: the plans to have a Cloud PC of, with the policy that makes it. Kept: plans whose existing Cloud PC
    /// stays although no assignment names the plan, because the user holds its license and a policy still covers
    /// one of their groups (a Cloud PC resized to another plan).
    /// </summary>
    private async Task<(Dictionary<Guid, ProvisioningPolicy> Wanted, HashSet<Guid> Kept)> WantedAsync(Guid tenantId, Guid userId, CancellationToken cancellationToken)
    {
        var groups = await db.Memberships.Where(m => m.UserId == userId && m.Present).Select(m => m.GroupId).ToListAsync(cancellationToken);
        var plans = await db.Licenses.Where(l => l.UserId == userId && l.Present).Select(l => l.ServicePlanId).ToListAsync(cancellationToken);
        if (groups.Count == 0 || plans.Count == 0)
        {
            return ([], []);
        }

        var covered = await db.Assignments.AnyAsync(a => a.TenantId == tenantId && groups.Contains(a.GroupId), cancellationToken);

        var assignments = (await db.Assignments
            .Where(a => a.TenantId == tenantId && groups.Contains(a.GroupId) && plans.Contains(a.ServicePlanId))
            .ToListAsync(cancellationToken))
            .OrderBy(a => a.AssignedAt).ThenBy(a => a.Id)
            .ToList();
        var wanted = new Dictionary<Guid, ProvisioningPolicy>();
        foreach (var assignment in assignments)
        {
            if (!wanted.ContainsKey(assignment.ServicePlanId) && await db.Policies.FindAsync([assignment.PolicyId], cancellationToken) is { } policy)
            {
                wanted[assignment.ServicePlanId] = policy;
            }
        }

        return (wanted, covered ? plans.ToHashSet() : []);
    }

    private async Task CreateAsync(DirectoryUser user, Guid planId, ProvisioningPolicy policy, CancellationToken cancellationToken)
    {
        var plan = await services.PlanAsync(planId, cancellationToken)
            ?? throw new InvalidOperationException($"Plan {planId} is not in identity's catalog.");
        var now = clock.GetUtcNow();
        var pc = new CloudPc
        {
            Id = Guid.CreateVersion7(now),
            TenantId = user.TenantId,
            UserId = user.UserId,
            UserPrincipalName = user.UserPrincipalName,
            DisplayName = $"{plan.DisplayName} - {(string.IsNullOrEmpty(user.DisplayName) ? user.UserPrincipalName : user.DisplayName)}",
            ManagedDeviceName = NamingTemplate.Apply(policy.CloudPcNamingTemplate, user.UserPrincipalName),
            ServicePlanName = plan.DisplayName,
            ProvisioningPolicyName = policy.DisplayName,
            ImageId = policy.ImageId,
            ImageDisplayName = policy.ImageDisplayName,
            RegionName = await RegionAsync(policy, cancellationToken),
            Status = CloudPcStatus.NotProvisioned,
            CreatedAt = now,
        };
        ApplyPolicy(pc, policy, plan);
        db.CloudPcs.Add(pc);
        lifecycle.StartProvisioning(pc, previousVmId: null);
    }

    /// <summary>What a (re)provisioning takes from the policy and the plan: edits apply from here on only.</summary>
    public static void ApplyPolicy(CloudPc pc, ProvisioningPolicy policy, PlanCopy plan)
    {
        ArgumentNullException.ThrowIfNull(pc);
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(plan);
        pc.ProvisioningPolicyId = policy.Id;
        pc.ProvisioningPolicyName = policy.DisplayName;
        pc.ImageId = policy.ImageId;
        pc.ImageDisplayName = policy.ImageDisplayName;
        pc.ServicePlanId = plan.Id;
        pc.ServicePlanName = plan.DisplayName;
        pc.VCpuCount = plan.VCpuCount;
        pc.MemoryMiB = plan.RamInGB * 1024;
        pc.DiskGiB = plan.StorageInGB;
    }

    /// <summary>The policy's region, or for automatic the configured region with the fewest Cloud PCs.</summary>
    public async Task<string> RegionAsync(ProvisioningPolicy policy, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(policy);
        var candidates = policy.RegionNames.Count > 0 ? policy.RegionNames : Regions(configuration);
        if (candidates.Count == 1)
        {
            return candidates[0];
        }

        var counts = await db.CloudPcs.Where(p => candidates.Contains(p.RegionName)).GroupBy(p => p.RegionName)
            .Select(g => new { Region = g.Key, Count = g.Count() }).ToDictionaryAsync(g => g.Region, g => g.Count, cancellationToken);
        counts = counts.Concat(db.CloudPcs.Local.Where(p => db.Entry(p).State == EntityState.Added).GroupBy(p => p.RegionName).Select(g => KeyValuePair.Create(g.Key, g.Count())))
            .GroupBy(p => p.Key).ToDictionary(g => g.Key, g => g.Sum(p => p.Value));
        return candidates.OrderBy(r => counts.GetValueOrDefault(r)).ThenBy(r => r, StringComparer.Ordinal).First();
    }

    /// <summary>The regions compute is configured with (Stratus:Compute:Regions), read from the same configuration.</summary>
    public static List<string> Regions(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var configured = configuration.GetSection("Stratus:Compute:Regions").GetChildren().Select(r => r["Name"]).OfType<string>().ToList();
        return configured.Count > 0 ? configured : ["local-1", "local-2"];
    }

    /// <summary>
    /// The regions whose VMs' disks compute copies to a store, as compute reads the same configuration
    /// (ComputeOptions.CopyStoreOf): a configured region's CopyStore, or every built-in local region when `stratus up`
    /// gives them a copy folder. A failover or failback needs a store in the region it restores from.
    /// </summary>
    public static HashSet<string> RegionsWithCopyStore(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var configured = configuration.GetSection("Stratus:Compute:Regions").GetChildren().ToList();
        if (configured.Count > 0)
        {
            return configured.Where(r => !string.IsNullOrWhiteSpace(r["CopyStore"])).Select(r => r["Name"]).OfType<string>().ToHashSet(StringComparer.Ordinal);
        }

        return string.IsNullOrWhiteSpace(configuration["Stratus:Compute:LocalCopyStoreFolder"]) ? [] : ["local-1", "local-2"];
    }
}
