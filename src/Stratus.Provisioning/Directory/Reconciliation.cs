using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Stratus.Provisioning.CloudPcs;
using Stratus.Platform.Jobs;
using Stratus.Provisioning.Persistence;

namespace Stratus.Provisioning.Directory;

/// <summary>
/// Heals whatever events were missed: every interval, each tenant with policies has its directory copy set to
/// identity's full state (rows newer than the state's sequence are left alone), then every user is evaluated.
/// Resizes that stopped half-way are settled first.
/// </summary>
internal sealed partial class Reconciliation(IServiceScopeFactory scopes, IOptions<ProvisioningOptions> options, TimeProvider clock, ILogger<Reconciliation> logger) : IPeriodicJob
{
    private const int PageSize = 500;

    public string Name => "provisioning.reconciliation";

    public TimeSpan Interval => options.Value.ReconcileInterval;

    public bool RunsAtStart => false;

    public Task RunAsync(CancellationToken cancellationToken) => ReconcileAllAsync(cancellationToken);

    public async Task ReconcileAllAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var services = scope.ServiceProvider.GetRequiredService<ServiceClients>();
        await StalledResizes.SettleAsync(scope.ServiceProvider.GetRequiredService<ProvisioningDbContext>(), scope.ServiceProvider.GetRequiredService<Lifecycle>(),
            services, options.Value.StalledResizeAfter, clock, logger, cancellationToken);
        foreach (var tenant in await services.KnownTenantsAsync(cancellationToken))
        {
            await ReconcileTenantAsync(scope.ServiceProvider, tenant, cancellationToken);
        }
    }

    private async Task ReconcileTenantAsync(IServiceProvider provider, Guid tenant, CancellationToken cancellationToken)
    {
        var db = provider.GetRequiredService<ProvisioningDbContext>();
        var services = provider.GetRequiredService<ServiceClients>();
        var users = 0;
        long sequence = 0;
        var oldestSequence = long.MaxValue;
        var inIdentity = new HashSet<Guid>();
        for (var skip = 0; ; skip += PageSize)
        {
            var page = await services.DirectoryStateAsync(tenant, skip, PageSize, cancellationToken);
            users += page.Value.Count;
            sequence = page.Sequence;
            oldestSequence = Math.Min(oldestSequence, page.Sequence);
            inIdentity.UnionWith(page.Value.Select(u => u.UserId));
            var ids = page.Value.Select(u => u.UserId).ToList();
            var copies = await db.Users.Where(u => ids.Contains(u.UserId)).ToDictionaryAsync(u => u.UserId, cancellationToken);
            var memberships = await db.Memberships.Where(m => ids.Contains(m.UserId)).ToListAsync(cancellationToken);
            var licenses = await db.Licenses.Where(l => ids.Contains(l.UserId)).ToListAsync(cancellationToken);
            foreach (var state in page.Value)
            {
                if (!copies.TryGetValue(state.UserId, out var user))
                {
                    db.Users.Add(new DirectoryUser { UserId = state.UserId, TenantId = tenant, UserPrincipalName = state.UserPrincipalName, Sequence = page.Sequence });
                }
                else if (user.Sequence <= page.Sequence)
                {
                    user.UserPrincipalName = state.UserPrincipalName;
                    user.Deleted = false;
                    user.Sequence = page.Sequence;
                }

                Sync(memberships.Where(m => m.UserId == state.UserId).ToList(), state.GroupIds, page.Sequence,
                    group => db.Memberships.Add(new DirectoryMembership { TenantId = tenant, UserId = state.UserId, GroupId = group, Present = true, Sequence = page.Sequence }),
                    m => m.GroupId, (m, present) => { m.Present = present; m.Sequence = page.Sequence; }, m => m.Sequence);
                Sync(licenses.Where(l => l.UserId == state.UserId).ToList(), state.SkuIds, page.Sequence,
                    plan => db.Licenses.Add(new DirectoryLicense { TenantId = tenant, UserId = state.UserId, ServicePlanId = plan, Present = true, Sequence = page.Sequence }),
                    l => l.ServicePlanId, (l, present) => { l.Present = present; l.Sequence = page.Sequence; }, l => l.Sequence);
            }

            await db.SaveChangesAsync(cancellationToken);
            db.ChangeTracker.Clear();
            if (skip + PageSize >= page.TotalCount)
            {
                break;
            }
        }

        var gone = await MarkGoneUsersDeletedAsync(db, tenant, inIdentity, oldestSequence, cancellationToken);
        db.Publish(new EvaluateTenant(tenant));
        await db.SaveChangesAsync(cancellationToken);
        LogReconciled(logger, tenant, users, sequence, gone);
    }

    /// <summary>
    /// A user of the copy that identity no longer lists is deleted, as its lost userDeleted would have said: the
    /// evaluation then puts their Cloud PCs in their grace period. A row changed after the oldest page was read (a
    /// user created meanwhile, possibly on a page already read) is left to its own events.
    /// </summary>
    private static async Task<int> MarkGoneUsersDeletedAsync(ProvisioningDbContext db, Guid tenant, HashSet<Guid> inIdentity, long sequence, CancellationToken cancellationToken)
    {
        var gone = (await db.Users.Where(u => u.TenantId == tenant && !u.Deleted && u.Sequence <= sequence).ToListAsync(cancellationToken))
            .Where(u => !inIdentity.Contains(u.UserId)).ToList();
        foreach (var user in gone)
        {
            user.Deleted = true;
            user.Sequence = sequence;
        }

        return gone.Count;
    }

    private static void Sync<TRow>(List<TRow> rows, IReadOnlyList<Guid> present, long sequence, Action<Guid> add, Func<TRow, Guid> key, Action<TRow, bool> set, Func<TRow, long> rowSequence)
    {
        foreach (var id in present.Where(id => !rows.Any(r => key(r) == id)))
        {
            add(id);
        }

        foreach (var row in rows.Where(r => rowSequence(r) <= sequence))
        {
            set(row, present.Contains(key(row)));
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Reconciled tenant {Tenant} with identity's state at sequence {Sequence}: {Users} users, {Gone} found deleted; evaluating them")]
    private static partial void LogReconciled(ILogger logger, Guid tenant, int users, long sequence, int gone);
}
