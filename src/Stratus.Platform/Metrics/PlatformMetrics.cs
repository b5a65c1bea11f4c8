using System.Diagnostics.Metrics;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Stratus.Platform.Messaging;
using Stratus.Platform.Persistence;

namespace Stratus.Platform.Metrics;

public static class PlatformMetrics
{
    /// <summary>The meter of the platform's own instruments (queues, outboxes, stores); AddMeter("Stratus.*") exports it.</summary>
    public const string MeterName = "Stratus.Platform";

    /// <summary>The snapshot refresher, the queue gauges and the interceptor that counts changes as they commit.</summary>
    public static IServiceCollection AddStratusMetrics(this IServiceCollection services)
    {
        services.AddOptions<MetricsOptions>().BindConfiguration("Stratus:Metrics");
        services.AddSingleton<IMetricsSnapshot, QueueMetrics>();
        services.TryAddSingleton<SavedChangesMetricsInterceptor>();
        services.AddHostedService<MetricsSnapshotRefresher>();
        return services;
    }

    /// <summary>The outbox lag of one service's store.</summary>
    public static IServiceCollection AddOutboxMetrics<TContext>(this IServiceCollection services, string schema)
        where TContext : ServiceDbContext
    {
        services.AddSingleton<OutboxGauges>();
        services.AddSingleton<IMetricsSnapshot>(provider => new OutboxMetrics<TContext>(schema, provider.GetRequiredService<OutboxGauges>(), provider.GetRequiredService<TimeProvider>()));
        return services;
    }
}

/// <summary>Per queue: messages due and waiting, the age of the oldest of them, messages scheduled later, dead letters.</summary>
internal sealed class QueueMetrics : IMetricsSnapshot
{
    private readonly SnapshotGauge depth;
    private readonly SnapshotGauge oldestAge;
    private readonly SnapshotGauge scheduled;
    private readonly SnapshotGauge deadLetters;
    private readonly TimeProvider clock;

    public QueueMetrics(IMeterFactory meters, TimeProvider clock)
    {
        var meter = meters.Create(PlatformMetrics.MeterName);
        depth = new SnapshotGauge(meter, "stratus.queue.depth", "{message}", "Messages due for handling and not handled yet, per queue.");
        oldestAge = new SnapshotGauge(meter, "stratus.queue.oldest_message.age", "s", "How long the oldest message due has waited, per queue; 0 when none waits.");
        scheduled = new SnapshotGauge(meter, "stratus.queue.scheduled", "{message}", "Messages waiting for a later time (scheduled, or retried with backoff), per queue.");
        deadLetters = new SnapshotGauge(meter, "stratus.queue.dead_letters", "{message}", "Dead letters kept until replayed (/api/v1/deadLetters), per queue.");
        this.clock = clock;
    }

    public string Store => PlatformDbContext.SchemaName;

    public async Task RefreshAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        var db = services.GetRequiredService<PlatformDbContext>();
        var now = clock.GetUtcNow();
        var queues = await db.Subscriptions.AsNoTracking().Select(s => s.Queue).Distinct().ToListAsync(cancellationToken);

        // Grouped in the database: one row per queue and kind, whatever the backlog. Handled messages are left out by
        // the (queue, status, visible_at) index.
        var rows = await db.QueueMessages.AsNoTracking()
            .Where(m => m.Status != QueueMessageStatus.Done)
            .GroupBy(m => new { m.Queue, m.Status, Due = m.VisibleAt <= now })
            .Select(g => new { g.Key.Queue, g.Key.Status, g.Key.Due, Count = g.Count(), Oldest = g.Min(m => m.VisibleAt) })
            .ToListAsync(cancellationToken);

        var names = queues.Concat(rows.Select(r => r.Queue)).Distinct(StringComparer.Ordinal).ToList();
        depth.Replace(Store, names.Select(q => SnapshotGauge.Value(
            rows.Where(r => r.Queue == q && r.Status == QueueMessageStatus.Pending && r.Due).Sum(r => r.Count), ("queue", q))));
        oldestAge.Replace(Store, names.Select(q => SnapshotGauge.Value(
            rows.Where(r => r.Queue == q && r.Status == QueueMessageStatus.Pending && r.Due)
                .Select(r => Math.Max(0, (now - r.Oldest).TotalSeconds)).DefaultIfEmpty(0).Max(), ("queue", q))));
        scheduled.Replace(Store, names.Select(q => SnapshotGauge.Value(
            rows.Where(r => r.Queue == q && r.Status == QueueMessageStatus.Pending && !r.Due).Sum(r => r.Count), ("queue", q))));
        deadLetters.Replace(Store, names.Select(q => SnapshotGauge.Value(
            rows.Where(r => r.Queue == q && r.Status == QueueMessageStatus.Dead).Sum(r => r.Count), ("queue", q))));
    }
}

/// <summary>The gauges every service store's outbox reports into, labelled by its store.</summary>
internal sealed class OutboxGauges
{
    public OutboxGauges(IMeterFactory meters)
    {
        var meter = meters.Create(PlatformMetrics.MeterName);
        Lag = new SnapshotGauge(meter, "stratus.outbox.lag", "s", "How long the oldest event not yet relayed to the queues has waited in its store's outbox; 0 when none.");
        Pending = new SnapshotGauge(meter, "stratus.outbox.pending", "{message}", "Events in a store's outbox not yet relayed to the queues.");
    }

    public SnapshotGauge Lag { get; }

    public SnapshotGauge Pending { get; }
}

/// <summary>One service store's outbox: rows not relayed yet and the age of the oldest.</summary>
internal sealed class OutboxMetrics<TContext>(string schema, OutboxGauges gauges, TimeProvider clock) : IMetricsSnapshot
    where TContext : ServiceDbContext
{
    public string Store => schema;

    public async Task RefreshAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        var db = services.GetRequiredService<TContext>();
        var now = clock.GetUtcNow();
        // Both by the (dispatched_at, created_at) index: the relayed rows are never read.
        var unrelayed = db.OutboxMessages.AsNoTracking().Where(m => m.DispatchedAt == null);
        var count = await unrelayed.CountAsync(cancellationToken);
        var oldest = count == 0 ? null : await unrelayed.MinAsync(m => (DateTimeOffset?)m.CreatedAt, cancellationToken);
        gauges.Pending.Replace(Store, [SnapshotGauge.Value(count, ("store", Store))]);
        gauges.Lag.Replace(Store, [SnapshotGauge.Value(oldest is { } at ? Math.Max(0, (now - at).TotalSeconds) : 0, ("store", Store))]);
    }
}
