using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Stratus.Identity.Persistence;
using Stratus.Platform.Persistence;

namespace Stratus.Identity.Licensing;

/// <summary>Gives a new installation plans small enough to boot on a laptop or a CI machine.</summary>
internal sealed class SeedServicePlans(TimeProvider clock) : IStartupTask
{
    // Fixed ids, so that every instance seeds the same rows and scripts can name them.
    public static readonly ServicePlan[] Defaults =
    [
        new() { Id = Guid.Parse("5c1a0000-0000-4000-8000-000000010108"), DisplayName = "Cloud PC 1 vCPU/1 GB/8 GB", VCpuCount = 1, RamInGB = 1, StorageInGB = 8 },
        new() { Id = Guid.Parse("5c1a0000-0000-4000-8000-000000020216"), DisplayName = "Cloud PC 2 vCPU/2 GB/16 GB", VCpuCount = 2, RamInGB = 2, StorageInGB = 16 },
    ];

    public async Task RunAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<IdentityDbContext>();
        if (await db.ServicePlans.AnyAsync(cancellationToken))
        {
            return;
        }

        var now = clock.GetUtcNow();
        db.ServicePlans.AddRange(Defaults.Select(p => new ServicePlan
        {
            Id = p.Id, DisplayName = p.DisplayName, VCpuCount = p.VCpuCount, RamInGB = p.RamInGB, StorageInGB = p.StorageInGB, CreatedAt = now,
        }));
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException e) when (!ReadOnlyStore.Refused(e))
        {
            // Another instance seeded them at the same moment.
        }
    }
}
