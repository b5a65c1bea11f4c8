using System.Text.Json;
using Microsoft.Extensions.Logging;
using Stratus.HostAgent.Copies;
using Stratus.HostAgent.Drivers;

namespace Stratus.HostAgent.Agent;

/// <summary>
/// Issue 18: takes each VM's disk copies to its stores on schedule. One copy at a time on the whole host (a copy
/// reads the whole disk, or all it changed, and writes it out: two at once would starve the guests' I/O). A store's
/// next copy is due IntervalSeconds after its last success; a failure is tried again sooner, with a backoff that
/// grows to the interval. The latest result per VM and store is kept in DATA/disk-copies.json, so that an agent that
/// restarts reports, and schedules from, what it had.
/// </summary>
internal sealed partial class DiskCopyScheduler(IVmDriver driver, AgentOptions options, TimeProvider clock, ILogger logger)
{
    private const string StateFile = "disk-copies.json";
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private static readonly TimeSpan FirstRetry = TimeSpan.FromSeconds(10);
    private readonly SemaphoreSlim oneAtATime = new(1, 1);
    private readonly Lock gate = new();
    private Dictionary<(Guid VmId, string StoreUri), StoreState> states = [];

    public async Task LoadAsync(CancellationToken cancellationToken)
    {
        var path = Path.Combine(options.DataFolder, StateFile);
        if (!File.Exists(path))
        {
            return;
        }

        await using var stream = File.OpenRead(path);
        var saved = await JsonSerializer.DeserializeAsync<List<SavedCopy>>(stream, Json, cancellationToken) ?? [];
        lock (gate)
        {
            states = saved.ToDictionary(s => (s.VmId, s.Copy.StoreUri), s => new StoreState(s.Copy, s.Failures, DueNow: false));
        }
    }

    /// <summary>What the report says of a VM's copies; null when it has none.</summary>
    public IReadOnlyList<ReportedDiskCopy>? For(Guid vmId)
    {
        lock (gate)
        {
            var copies = states.Where(s => s.Key.VmId == vmId).Select(s => s.Value.Reported).OrderBy(c => c.StoreUri, StringComparer.Ordinal).ToList();
            return copies.Count == 0 ? null : copies;
        }
    }

    /// <summary>The VM was just stopped: its disk will not change until it starts again, the best moment for a copy.</summary>
    public void DueNow(Guid vmId, IEnumerable<string> storeUris)
    {
        lock (gate)
        {
            foreach (var uri in storeUris)
            {
                var key = (vmId, uri);
                states[key] = (states.GetValueOrDefault(key) ?? StoreState.None(uri)) with { DueNow = true };
            }
        }
    }

    /// <summary>The VM's disk was deleted: its copies' schedule goes with it (the copies stay in the store).</summary>
    public async Task ForgetAsync(Guid vmId, CancellationToken cancellationToken)
    {
        lock (gate)
        {
            foreach (var key in states.Keys.Where(k => k.VmId == vmId).ToList())
            {
                states.Remove(key);
            }
        }

        await SaveAsync(cancellationToken);
    }

    /// <summary>Takes the copies that are due, one after the other, of the desired VMs the driver has.</summary>
    public async Task RunDueAsync(DesiredState desired, IReadOnlySet<string> onThisHost, CancellationToken cancellationToken)
    {
        var candidates = desired.Vms
            .Where(v => !v.Delete && v.Copies is { StoreUris.Count: > 0 } && onThisHost.Contains(HostAgentService.DriverId(v.Id)))
            .SelectMany(v => v.Copies!.StoreUris.Select(uri => (v.Id, Uri: uri, Interval: TimeSpan.FromSeconds(Math.Max(1, v.Copies.IntervalSeconds)))))
            .ToList();
        foreach (var (vmId, uri, interval) in candidates)
        {
            StoreState? state;
            lock (gate)
            {
                state = states.GetValueOrDefault((vmId, uri));
            }

            if (state is null || state.DueAt(interval) <= clock.GetUtcNow())
            {
                await TryCopyAsync(vmId, uri, cancellationToken);
            }
        }
    }

    /// <summary>A copy now (the CopyDisk operation): waits for the copy under way, if any; a failure is a VmDriverException.</summary>
    public async Task<DiskCopyResult> CopyNowAsync(Guid vmId, string storeUri, CancellationToken cancellationToken)
    {
        var (result, error) = await TryCopyAsync(vmId, storeUri, cancellationToken);
        return result ?? throw new VmDriverException(error!);
    }

    private async Task<(DiskCopyResult? Result, string? Error)> TryCopyAsync(Guid vmId, string storeUri, CancellationToken cancellationToken)
    {
        await oneAtATime.WaitAsync(cancellationToken);
        var attempt = clock.GetUtcNow();
        StoreState next;
        DiskCopyResult? result = null;
        string? error = null;
        try
        {
            var store = CopyStores.Open(storeUri, options.CopyStores, clock);
            try
            {
                result = await driver.CopyDiskAsync(HostAgentService.DriverId(vmId), store, cancellationToken);
            }
            finally
            {
                (store as IDisposable)?.Dispose();
            }
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            // Any failure (the store away or full, the driver's, a bad URI) is the store's state to report, never the agent's end.
            error = e.Message;
            LogCopyFailed(logger, e, HostAgentService.DriverId(vmId), CopyStores.Redact(storeUri));
        }
        finally
        {
            oneAtATime.Release();
        }

        lock (gate)
        {
            var previous = states.GetValueOrDefault((vmId, storeUri)) ?? StoreState.None(storeUri);
            next = result is { } copy
                ? new StoreState(new ReportedDiskCopy(storeUri, copy.TakenAt, copy.BytesShipped, copy.DiskBytes, copy.ChainLength, attempt, null), 0, DueNow: false)
                : previous with { Reported = previous.Reported with { LastAttemptAt = attempt, LastError = error }, Failures = previous.Failures + 1, DueNow = false };
            states[(vmId, storeUri)] = next;
        }

        if (result is { } taken)
        {
            LogCopied(logger, HostAgentService.DriverId(vmId), CopyStores.Redact(storeUri), taken.Full ? "full" : "incremental", taken.BytesShipped, taken.ChainLength);
        }

        await SaveAsync(cancellationToken);
        return (result, error);
    }

    private async Task SaveAsync(CancellationToken cancellationToken)
    {
        List<SavedCopy> saved;
        lock (gate)
        {
            saved = states.Where(s => s.Value.Reported.LastAttemptAt is not null).Select(s => new SavedCopy(s.Key.VmId, s.Value.Reported, s.Value.Failures)).ToList();
        }

        var path = Path.Combine(options.DataFolder, StateFile);
        var aside = path + ".tmp";
        await File.WriteAllBytesAsync(aside, JsonSerializer.SerializeToUtf8Bytes(saved, Json), cancellationToken);
        File.Move(aside, path, overwrite: true);
    }

    private sealed record SavedCopy(Guid VmId, ReportedDiskCopy Copy, int Failures);

    private sealed record StoreState(ReportedDiskCopy Reported, int Failures, bool DueNow)
    {
        public static StoreState None(string storeUri) => new(new ReportedDiskCopy(storeUri, null, null, null, 0, null, null), 0, DueNow: false);

        /// <summary>When the next copy is due: at once, after the interval, or sooner after a failure (10 s, doubling, up to the interval).</summary>
        public DateTimeOffset DueAt(TimeSpan interval)
        {
            if (DueNow || Reported.LastAttemptAt is null)
            {
                return DateTimeOffset.MinValue;
            }

            if (Reported.LastError is not null)
            {
                var backoff = TimeSpan.FromTicks(Math.Min(interval.Ticks, FirstRetry.Ticks << Math.Min(Failures - 1, 20)));
                return Reported.LastAttemptAt.Value + backoff;
            }

            return (Reported.LatestCopyAt ?? DateTimeOffset.MinValue) + interval;
        }
    }

    [LoggerMessage(EventId = 4020, Level = LogLevel.Information, Message = "Copied VM {VmId}'s disk to {Store} ({Kind}, {Bytes} bytes shipped, chain of {ChainLength})")]
    private static partial void LogCopied(ILogger logger, string vmId, string store, string kind, long bytes, int chainLength);

    [LoggerMessage(EventId = 4021, Level = LogLevel.Warning, Message = "Copying VM {VmId}'s disk to {Store} failed; it is tried again sooner")]
    private static partial void LogCopyFailed(ILogger logger, Exception exception, string vmId, string store);
}
