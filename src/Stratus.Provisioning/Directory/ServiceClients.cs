using System.Net;
using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;
using Stratus.Platform.Auth;
using Stratus.Platform.Http;
using Stratus.Provisioning.Persistence;

namespace Stratus.Provisioning.Directory;

public sealed record ServicePlanBody(Guid Id, string DisplayName, int VCpuCount, int RamInGB, int StorageInGB);

public sealed record UserStateBody(Guid UserId, string UserPrincipalName, bool AccountEnabled, IReadOnlyList<Guid> GroupIds, IReadOnlyList<Guid> SkuIds);

public sealed record DirectoryStatePageBody(long Sequence, IReadOnlyList<UserStateBody> Value, int TotalCount);

public sealed record ImageBody(string Id, string DisplayName, string? Status);

/// <summary>Compute's diskCopies of a VM, one per copy store (GET /api/v1/vms/{id}).</summary>
public sealed record DiskCopyBody(
    string Region, string? StoreUri, DateTimeOffset? LatestCopyAt, long? LatestBytes, long? DiskBytes, int? ChainLength,
    DateTimeOffset? LastAttemptAt, string? LastError, string Status);

internal sealed record VmCopiesBody(IReadOnlyList<DiskCopyBody>? DiskCopies);

/// <summary>What provisioning asks identity and images over their public APIs, as a workload of the tenant.</summary>
public sealed class ServiceClients(ServiceCalls calls, ProvisioningDbContext db)
{
    /// <summary>Provisioning's client at identity: its calls carry only the scopes granted to it.</summary>
    private const string Caller = "provisioning";

    /// <summary>A plan from the local copy, read again from identity when it is not there.</summary>
    public async Task<PlanCopy?> PlanAsync(Guid planId, CancellationToken cancellationToken)
    {
        if (await db.Plans.FindAsync([planId], cancellationToken) is { } known)
        {
            return known;
        }

        using var http = calls.For(Caller, "identity", null, StratusScopes.DirectoryRead);
        var plans = await http.GetFromJsonAsync<List<ServicePlanBody>>("/api/v1/servicePlans", cancellationToken) ?? [];
        foreach (var plan in plans)
        {
            var copy = await db.Plans.FindAsync([plan.Id], cancellationToken);
            if (copy is null)
            {
                db.Plans.Add(new PlanCopy { Id = plan.Id, DisplayName = plan.DisplayName, VCpuCount = plan.VCpuCount, RamInGB = plan.RamInGB, StorageInGB = plan.StorageInGB });
            }
        }

        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException) when (db.ChangeTracker.Entries<PlanCopy>().Any(e => e.State == EntityState.Added))
        {
            // Another request copied the catalog at the same moment (the first ones after a start do): its copies
            // serve as well as ours, so ours are dropped and theirs read.
            foreach (var entry in db.ChangeTracker.Entries<PlanCopy>().Where(e => e.State == EntityState.Added).ToList())
            {
                entry.State = EntityState.Detached;
            }
        }

        return await db.Plans.FindAsync([planId], cancellationToken);
    }

    /// <summary>
    /// The copies compute keeps of a VM's disk, or null when compute cannot say (unreachable, the VM unknown): a
    /// report shows that as unknown rather than failing.
    /// </summary>
    public async Task<IReadOnlyList<DiskCopyBody>?> DiskCopiesAsync(Guid tenantId, Guid vmId, CancellationToken cancellationToken)
    {
        try
        {
            using var http = calls.For(Caller, "compute", tenantId, StratusScopes.VmsRead);
            using var response = await http.GetAsync($"/api/v1/vms/{vmId}", cancellationToken);
            return response.IsSuccessStatusCode ? (await response.Content.ReadFromJsonAsync<VmCopiesBody>(cancellationToken))?.DiskCopies ?? [] : null;
        }
        catch (HttpRequestException)
        {
            return null;
        }
    }

    /// <summary>True when the group exists in the tenant (identity answers 404 for another tenant's group).</summary>
    public async Task<bool> GroupExistsAsync(Guid tenantId, Guid groupId, CancellationToken cancellationToken)
    {
        using var http = calls.For(Caller, "identity", tenantId, StratusScopes.DirectoryRead);
        using var response = await http.GetAsync($"/api/v1/groups/{groupId}", cancellationToken);
        return response.StatusCode == HttpStatusCode.NotFound ? false : response.EnsureSuccessStatusCode().IsSuccessStatusCode;
    }

    /// <summary>The image of the tenant (custom) or of the gallery, if it exists and is ready.</summary>
    public async Task<ImageBody?> ImageAsync(Guid tenantId, string imageId, bool custom, CancellationToken cancellationToken)
    {
        using var http = calls.For(Caller, "images", tenantId, StratusScopes.ImagesRead);
        var path = custom ? $"/api/v1/deviceImages/{Uri.EscapeDataString(imageId)}" : $"/api/v1/galleryImages/{Uri.EscapeDataString(imageId)}";
        using var response = await http.GetAsync(path, cancellationToken);
        if (response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.BadRequest)
        {
            return null;
        }

        response.EnsureSuccessStatusCode();
        return await response.Content.ReadFromJsonAsync<ImageBody>(cancellationToken);
    }

    /// <summary>
    /// Moves a user from one license to another in one all-or-nothing change at identity (a resize). Null when
    /// done, else identity's reason (no seats left, no subscription), to show the admin as it is.
    /// </summary>
    public async Task<string?> SwapLicenseAsync(Guid tenantId, Guid userId, Guid add, Guid remove, CancellationToken cancellationToken)
    {
        using var http = calls.For(Caller, "identity", tenantId, StratusScopes.LicensesWrite);
        using var response = await http.PostAsJsonAsync($"/api/v1/users/{userId}/assignLicense",
            new { addLicenses = new[] { new { skuId = add } }, removeLicenses = new[] { remove } }, cancellationToken);
        if (response.IsSuccessStatusCode)
        {
            return null;
        }

        if ((int)response.StatusCode is >= 400 and < 500)
        {
            var problem = await response.Content.ReadFromJsonAsync<ProblemBody>(cancellationToken);
            return problem?.Errors?.Values.SelectMany(v => v).FirstOrDefault() ?? problem?.Detail ?? $"identity refused the license change ({(int)response.StatusCode}).";
        }

        response.EnsureSuccessStatusCode();
        return null;
    }

    /// <summary>Whether the user holds the license of <paramref name="held"/> and not that of <paramref name="notHeld"/>.</summary>
    public async Task<bool> HoldsOnlyAsync(Guid tenantId, Guid userId, Guid held, Guid notHeld, CancellationToken cancellationToken)
    {
        using var http = calls.For(Caller, "identity", tenantId, StratusScopes.DirectoryRead);
        var licenses = await http.GetFromJsonAsync<List<LicenseBody>>($"/api/v1/users/{userId}/licenseDetails", cancellationToken) ?? [];
        return licenses.Any(l => l.SkuId == held) && licenses.All(l => l.SkuId != notHeld);
    }

    private sealed record LicenseBody(Guid SkuId);

    private sealed record ProblemBody(string? Detail, Dictionary<string, string[]>? Errors);

    public async Task<DirectoryStatePageBody> DirectoryStateAsync(Guid tenantId, int skip, int top, CancellationToken cancellationToken)
    {
        using var http = calls.For(Caller, "identity", tenantId, StratusScopes.DirectoryRead);
        return await http.GetFromJsonAsync<DirectoryStatePageBody>($"/api/v1/directoryState?$skip={skip}&$top={top}", cancellationToken)
            ?? throw new InvalidOperationException("identity answered an empty directory state page");
    }

    public Task<List<Guid>> KnownTenantsAsync(CancellationToken cancellationToken) =>
        db.Policies.Select(p => p.TenantId).Distinct().ToListAsync(cancellationToken);
}
