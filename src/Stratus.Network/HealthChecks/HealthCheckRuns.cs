using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Stratus.Network.Connections;
using Stratus.Network.Persistence;

namespace Stratus.Network.HealthChecks;

/// <summary>
/// Starts a connection's runs, takes the hosts' reports into them and completes them: when every host of the region
/// reported, or at the run's deadline. The connection's status follows its latest completed run.
/// </summary>
public sealed class HealthCheckRuns(NetworkDbContext db, ConnectionUsageClient usage, HostInterfacesClient hosts, IOptions<NetworkOptions> options, TimeProvider clock)
{
    /// <summary>
    /// The connection's run under way, or a new one (added to the context with its event, saved by the caller with its
    /// other changes): one run at a time per connection, shared by everyone who asks meanwhile.
    /// </summary>
    public async Task<HealthCheckRun> RequestAsync(NetworkConnection connection, string requestedBy, CancellationToken cancellationToken)
    {
        var running = await db.HealthCheckRuns.FirstOrDefaultAsync(r => r.ConnectionId == connection.Id && r.Status == HealthCheckStatus.Running, cancellationToken);
        if (running is not null)
        {
            return running;
        }

        var now = clock.GetUtcNow();
        var run = new HealthCheckRun
        {
            Id = Guid.CreateVersion7(now),
            TenantId = connection.TenantId,
            ConnectionId = connection.Id,
            RequestedAt = now,
            RequestedBy = requestedBy,
            Deadline = now + options.Value.HealthCheckRunTimeout,
            Status = HealthCheckStatus.Running,
            ConcurrencyStamp = Guid.NewGuid(),
        };
        db.HealthCheckRuns.Add(run);
        connection.HealthCheckStatus = HealthCheckStatus.Running;
        connection.LastRunRequestedAt = now;
        connection.ConcurrencyStamp = Guid.NewGuid();
        db.Publish(new NetworkHealthCheckRequested(connection.TenantId, connection.Id, connection.Region, run.Id, now));
        return run;
    }

    /// <summary>One host's checks: into its run (completing it when the last host reported), or, without a run, as the latest status.</summary>
    public Task RecordAsync(NetworkChecksReported report, CancellationToken cancellationToken) => db.RetryOnConcurrentChangeAsync(async () =>
    {
        var connection = await db.Connections.FirstOrDefaultAsync(c => c.Id == report.ConnectionId, cancellationToken);
        if (connection is null)
        {
            return true;
        }

        if (report.RunId is not { } runId)
        {
            await RecordWithoutRunAsync(connection, report, cancellationToken);
            return true;
        }

        var run = await db.HealthCheckRuns.FirstOrDefaultAsync(r => r.Id == runId && r.ConnectionId == connection.Id, cancellationToken);
        if (run is not { Status: HealthCheckStatus.Running })
        {
            // A report after the run's deadline (or of a pruned run): the run ended without it.
            return true;
        }

        var reports = HostReports.Parse(run.HostReports).Where(r => r.HostId != report.HostId).Append(report).ToList();
        run.HostReports = HostReports.ToJson(reports);
        run.ConcurrencyStamp = Guid.NewGuid();
        if (reports.Count >= report.RegionHostCount)
        {
            await CompleteAsync(run, connection, reports, new RunContext(report.RegionHostCount, [], null, null), cancellationToken);
        }

        await db.SaveChangesAsync(cancellationToken);
        return true;
    });

    /// <summary>Completes a run past its deadline with what reported; the hosts that did not are named when compute can say.</summary>
    public Task FinishOverdueAsync(Guid runId, CancellationToken cancellationToken) => db.RetryOnConcurrentChangeAsync(async () =>
    {
        var run = await db.HealthCheckRuns.FirstOrDefaultAsync(r => r.Id == runId, cancellationToken);
        var connection = run is null ? null : await db.Connections.FirstOrDefaultAsync(c => c.Id == run.ConnectionId, cancellationToken);
        if (run is not { Status: HealthCheckStatus.Running })
        {
            return true;
        }

        if (connection is null)
        {
            run.Status = HealthCheckStatus.Failed;
            run.EndedAt = clock.GetUtcNow();
        }
        else
        {
            var reports = HostReports.Parse(run.HostReports);
            var expected = reports.Count > 0 ? reports.Max(r => r.RegionHostCount) : 0;
            List<string> silent = [];
            var region = await hosts.OfRegionAsync(connection.Region, cancellationToken);
            if (region.Value is { } known)
            {
                var reported = reports.Select(r => r.HostId).ToHashSet();
                silent = known.Hosts.Where(h => !reported.Contains(h.HostId) && IsUp(h)).Select(h => h.Name).ToList();
                expected = Math.Max(expected, reports.Count + silent.Count);
            }
            else if (reports.Count == 0)
            {
                // Compute cannot say how many hosts there are and none reported: at least one was expected, or the run
                // would read "no host in region" without anyone knowing that.
                expected = 1;
            }

            await CompleteAsync(run, connection, reports, new RunContext(expected, silent, null, null), cancellationToken);
        }

        run.ConcurrencyStamp = Guid.NewGuid();
        await db.SaveChangesAsync(cancellationToken);
        return true;
    });

    private static bool IsUp(RegionHost host) => !host.State.Equals("down", StringComparison.OrdinalIgnoreCase)
        && !host.State.Equals("offline", StringComparison.OrdinalIgnoreCase) && !host.State.Equals("unreachable", StringComparison.OrdinalIgnoreCase)
        && !host.State.Equals("lost", StringComparison.OrdinalIgnoreCase);

    private async Task CompleteAsync(HealthCheckRun run, NetworkConnection connection, IReadOnlyList<NetworkChecksReported> reports, RunContext context,
        CancellationToken cancellationToken)
    {
        var cloudPcs = await usage.OfAsync(connection.TenantId, connection.Id, cancellationToken);
        var now = clock.GetUtcNow();
        var detail = RunAggregation.Aggregate(connection, reports, context with { CloudPcCount = cloudPcs.Value?.CloudPcCount, UsageUnavailable = cloudPcs.Unavailable },
            run.RequestedAt, now);
        var status = RunAggregation.Overall(detail);
        run.Status = status;
        run.Detail = detail.ToJson();
        run.EndedAt = now;
        SetLatest(connection, detail, status, now);
    }

    private async Task RecordWithoutRunAsync(NetworkConnection connection, NetworkChecksReported report, CancellationToken cancellationToken)
    {
        if (connection.HealthCheckStatus == HealthCheckStatus.Running)
        {
            // The run under way says more (every host); this host reports again in it.
            return;
        }

        var cloudPcs = await usage.OfAsync(connection.TenantId, connection.Id, cancellationToken);
        var now = clock.GetUtcNow();
        var full = RunAggregation.Aggregate(connection, [report], new RunContext(1, [], cloudPcs.Value?.CloudPcCount, cloudPcs.Unavailable), report.CheckedAt, now);
        // One host's checks outside a run say nothing about the other hosts reporting.
        var detail = full with { HealthChecks = full.HealthChecks.Where(c => c.DisplayName != "hostsReporting").ToList() };
        SetLatest(connection, detail, RunAggregation.Overall(detail), now);
        await db.SaveChangesAsync(cancellationToken);
    }

    private void SetLatest(NetworkConnection connection, HealthCheckDetail detail, HealthCheckStatus status, DateTimeOffset now)
    {
        if (status != connection.LastCompletedStatus)
        {
            // Monitoring's alert rule opens a record on failed and resolves it on any other outcome.
            db.Publish(new NetworkConnectionHealthChanged(connection.TenantId, connection.Id, connection.DisplayName,
                status.ToString().ToLowerInvariant(), now));
        }

        connection.HealthCheckStatus = status;
        connection.HealthCheckDetail = detail.ToJson();
        connection.LastCompletedStatus = status;
        connection.LastCheckedAt = now;
        connection.ConcurrencyStamp = Guid.NewGuid();
    }
}
