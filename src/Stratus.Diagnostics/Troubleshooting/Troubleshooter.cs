using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Stratus.Diagnostics.Persistence;

namespace Stratus.Diagnostics.Troubleshooting;

/// <summary>Why a Cloud PC was not troubleshot: not one of the caller's tenant's (404), or provisioning did not answer (503).</summary>
public sealed record TroubleshootRefusal(int StatusCode, string Detail);

/// <summary>
/// Runs a Cloud PC's checks and keeps the result. Reads only: a fix is offered with its check (suggestedAction),
/// never applied here.
/// </summary>
public sealed partial class Troubleshooter(ServiceReads reads, DiagnosticsDbContext db, TimeProvider clock, ILogger<Troubleshooter> logger)
{
    public async Task<(TroubleshootResultView? Result, TroubleshootRefusal? Refusal)> RunAsync(
        string userToken, Guid tenantId, string requestedBy, Guid cloudPcId, CancellationToken cancellationToken)
    {
        var start = clock.GetUtcNow();
        var record = await reads.CloudPcAsync(userToken, cloudPcId, cancellationToken);
        if (record.Value is not { } pc)
        {
            // Provisioning answers for the administrator's tenant only: another tenant's Cloud PC is not found, as one that does not exist.
            return record.StatusCode switch
            {
                404 => (null, new TroubleshootRefusal(404, $"There is no Cloud PC with id '{cloudPcId}' that you can see.")),
                401 => (null, new TroubleshootRefusal(401, "Your sign-in expired or was revoked: sign in again.")),
                _ => (null, new TroubleshootRefusal(503, $"Cannot read the Cloud PC right now ({record.Unavailable}); try again in a moment.")),
            };
        }

        var checks = await CheckAsync(userToken, pc, cancellationToken);
        var result = new TroubleshootResult
        {
            Id = Guid.CreateVersion7(),
            TenantId = tenantId,
            CloudPcId = pc.Id,
            StartDateTime = start,
            EndDateTime = clock.GetUtcNow(),
            OverallStatus = CheckStatus.Overall(checks),
            ChecksJson = JsonSerializer.Serialize(checks, TroubleshootApi.Json),
            RequestedBy = requestedBy.Length <= 256 ? requestedBy : requestedBy[..256],
        };
        db.TroubleshootResults.Add(result);
        await db.SaveChangesAsync(cancellationToken);
        LogTroubleshot(logger, pc.Id, result.OverallStatus, string.Join(", ", checks.Where(c => c.Status == CheckStatus.Failed).Select(c => c.Name)));
        return (TroubleshootResultView.From(result), null);
    }

    private async Task<List<TroubleshootCheck>> CheckAsync(string userToken, CloudPcInfo pc, CancellationToken cancellationToken)
    {
        // The reads do not depend on each other: asked at once, so one slow service costs its own timeout and no more.
        var vm = reads.VmAsync(pc.VmId, cancellationToken);
        var points = reads.RestorePointsAsync(userToken, pc.Id, cancellationToken);
        var connection = pc.OnPremisesConnectionId is { } connectionId ? reads.ConnectionAsync(userToken, connectionId, cancellationToken) : null;
        var vmAnswer = await vm;
        var hosts = vmAnswer.Value is { } known ? await reads.RegionHostsAsync(known.Region, cancellationToken) : null;
        var now = clock.GetUtcNow();
        return
        [
            CloudPcChecks.Record(pc),
            CloudPcChecks.Host(pc, vmAnswer, hosts),
            CloudPcChecks.Vm(pc, vmAnswer),
            CloudPcChecks.Network(pc, connection is null ? null : await connection),
            CloudPcChecks.Copies(pc, vmAnswer, now),
            CloudPcChecks.Points(await points, now),
            CloudPcChecks.ConsoleSession(),
            CloudPcChecks.DiskSpace(),
        ];
    }

    /// <summary>Results past <see cref="TroubleshootApi.Retention"/> go; run with each new result, so the table never grows past 28 days of them.</summary>
    public async Task PruneAsync(CancellationToken cancellationToken)
    {
        var cutoff = clock.GetUtcNow() - TroubleshootApi.Retention;
        await db.TroubleshootResults.Where(r => r.StartDateTime < cutoff).ExecuteDeleteAsync(cancellationToken);
    }

    [LoggerMessage(EventId = 5101, Level = LogLevel.Information, Message = "Troubleshot Cloud PC {CloudPcId}: {Overall}; failed checks: {Failed}")]
    private static partial void LogTroubleshot(ILogger logger, Guid cloudPcId, string overall, string failed);
}
