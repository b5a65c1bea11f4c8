using System.Collections.Concurrent;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Stratus.HostAgent.Drivers;

namespace Stratus.HostAgent.Agent;

/// <summary>
/// The host agent: enrolls once, then loops forever over "fetch the desired state (long poll), converge on
/// it, report". Level-triggered: every pass compares the whole desired state with what the driver has, so
/// an agent that restarts, or a control plane that fails over, converges again with no duplicates (create
/// is idempotent by VM id). It deletes only what compute explicitly marked deleted; a VM the desired state
/// merely leaves out is unmanaged: kept, stopped, and reported for the operator to adopt or delete.
/// </summary>
public sealed partial class HostAgentService(
    IVmDriver driver,
    AgentOptions options,
    string accelerator,
    HttpClient http,
    TimeProvider clock,
    ILogger<HostAgentService> logger) : BackgroundService
{
    public const string TokenHeader = "X-Stratus-Agent-Token";
    public const string IdentityFile = "agent.json";
    private const string JournalFile = "operations.json";
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly ConcurrentDictionary<Guid, VmOutcome> outcomes = new();
    private readonly ConcurrentDictionary<string, bool> unmanagedSeen = new();
    private readonly ConcurrentDictionary<string, bool> missingSeen = new();
    private readonly SemaphoreSlim reporting = new(1, 1);
    private OperationJournal journal = new([]);
    private AgentIdentity? identity;
    private ConsoleRelayDialer? relays;

    /// <summary>The desired state of the pass under way: reports tell wanted VMs from unmanaged ones by it.</summary>
    private volatile DesiredState? lastDesired;

    public Guid? HostId => identity?.HostId;

    /// <summary>The desired version this agent last converged on, for tests and logs.</summary>
    public long ConvergedVersion { get; private set; } = -1;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        Directory.CreateDirectory(options.DataFolder);
        identity = await EnsureEnrolledAsync(stoppingToken);
        http.DefaultRequestHeaders.Remove(TokenHeader);
        http.DefaultRequestHeaders.Add(TokenHeader, identity.AgentToken);
        journal = await OperationJournal.LoadAsync(Path.Combine(options.DataFolder, JournalFile), stoppingToken);
        relays = new ConsoleRelayDialer(driver, options.ControlPlanePin, logger);
        var adopted = await driver.AdoptAsync(stoppingToken);
        LogStarted(logger, options.Name, identity.Region, identity.Zone, driver.Name, accelerator, adopted.Count);

        using var heartbeat = new CancellationTokenSource();
        var heartbeats = HeartbeatLoopAsync(CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, heartbeat.Token).Token);
        long? version = null;
        var failures = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var url = "/api/v1/agent/desiredState" + (version is { } v ? $"?after={v}" : "");
                var desired = await http.GetFromJsonAsync<DesiredState>(url, Json, stoppingToken)
                    ?? throw new InvalidOperationException("The control plane sent no desired state.");
                // Before converging, which may take minutes (a boot under TCG): a person waits on a relay.
                relays.Dial(desired.ConsoleRelays, stoppingToken);
                await ConvergeAsync(desired, stoppingToken);
                await ReportAsync(stoppingToken);
                version = desired.Version;
                ConvergedVersion = desired.Version;
                failures = 0;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException && !stoppingToken.IsCancellationRequested)
            {
                // The control plane is away (restarting, failing over): keep the VMs as they are and retry.
                failures++;
                LogControlPlaneUnreachable(logger, e.Message, failures);
                version = null;
                await Task.Delay(TimeSpan.FromSeconds(Math.Min(30, Math.Pow(2, Math.Min(failures, 5)) / 2)), clock, stoppingToken);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                // Anything else (a driver error outside one VM's convergence, a full disk for the journal) must not
                // stop the agent, and with it an embedded host's whole process: log it and try the pass again.
                failures++;
                LogPassFailed(logger, e, failures);
                version = null;
                await Task.Delay(TimeSpan.FromSeconds(Math.Min(30, Math.Pow(2, Math.Min(failures, 5)) / 2)), clock, stoppingToken);
            }
        }

        await heartbeat.CancelAsync();
        await heartbeats.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    private async Task<AgentIdentity> EnsureEnrolledAsync(CancellationToken cancellationToken)
    {
        var path = Path.Combine(options.DataFolder, IdentityFile);
        if (File.Exists(path))
        {
            await using var stream = File.OpenRead(path);
            return await JsonSerializer.DeserializeAsync<AgentIdentity>(stream, Json, cancellationToken)
                ?? throw new InvalidOperationException($"{path} is empty; remove it and enroll again.");
        }

        if (string.IsNullOrEmpty(options.EnrollmentToken))
        {
            throw new InvalidOperationException($"This host is not enrolled yet ({path} does not exist): give --enrollment-token.");
        }

        var request = new EnrollRequest(options.EnrollmentToken, options.Name, options.Region, options.Zone, driver.Name, accelerator,
            options.VCpus, options.MemoryMiB, options.DiskGiB, AgentVersion);
        HttpResponseMessage response;
        try
        {
            response = await http.PostAsJsonAsync("/api/v1/agent/enroll", request, Json, cancellationToken);
        }
        catch (HttpRequestException e) when (e.HttpRequestError == HttpRequestError.SecureConnectionError)
        {
            throw new InvalidOperationException($"Refused to enroll at {options.ControlPlane}: its TLS certificate is not "
                + (options.ControlPlanePin is { } pin ? $"the pinned one ({pin}; see the line above)." : "trusted by this machine; give the pin it prints with --control-plane-cert-hash."), e);
        }
        catch (HttpRequestException e)
        {
            throw new InvalidOperationException($"Cannot reach the control plane at {options.ControlPlane} to enroll: {e.Message}. Check --control-plane.", e);
        }

        using var _ = response;
        if (!response.IsSuccessStatusCode)
        {
            var problem = await response.Content.ReadAsStringAsync(cancellationToken);
            throw new InvalidOperationException($"Enrollment refused ({(int)response.StatusCode}): {problem}");
        }

        var enrolled = await response.Content.ReadFromJsonAsync<EnrollResponse>(Json, cancellationToken)
            ?? throw new InvalidOperationException("Enrollment answered nothing.");
        var saved = new AgentIdentity(enrolled.HostId, enrolled.AgentToken, enrolled.Region, enrolled.Zone, options.ControlPlanePin?.Value);
        var options_ = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options_.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        await using (var stream = new FileStream(path, options_))
        {
            await JsonSerializer.SerializeAsync(stream, saved, Json, cancellationToken);
        }

        return saved;
    }

    private async Task ConvergeAsync(DesiredState desired, CancellationToken cancellationToken)
    {
        // Set before anything is created: a heartbeat during the pass must count a VM it creates as wanted.
        lastDesired = desired;
        var actual = (await driver.ListAsync(cancellationToken)).ToDictionary(v => v.Id);
        var deletions = desired.Deletions();
        var deleted = deletions.Select(t => t.VmId).ToHashSet();
        var wanted = desired.Vms.Where(v => !v.Delete).ToList();
        var wantedIds = desired.Vms.Select(v => DriverId(v.Id)).ToHashSet();

        // Anything else on this disk is not compute's to lose: a host enrolled again over its old data, a store
        // restored from an older backup, a confused instance's empty answer. Kept, stopped, reported unmanaged.
        var unmanaged = actual.Values.Where(vm => !wantedIds.Contains(vm.Id) && !deleted.Contains(vm.Id)).ToList();
        using var gate = new SemaphoreSlim(options.Parallelism);
        async Task GatedAsync(Func<Task> step)
        {
            await gate.WaitAsync(cancellationToken);
            try
            {
                await step();
            }
            finally
            {
                gate.Release();
            }
        }

        await Task.WhenAll(wanted.Select(vm => GatedAsync(() => ConvergeVmAsync(vm, actual.GetValueOrDefault(DriverId(vm.Id)), cancellationToken)))
            .Concat(unmanaged.Select(vm => GatedAsync(() => KeepUnmanagedAsync(vm, cancellationToken)))));

        foreach (var tombstone in deletions)
        {
            if (actual.ContainsKey(tombstone.VmId))
            {
                LogDeleting(logger, tombstone.VmId);
            }

            await driver.DeleteAsync(tombstone, cancellationToken);
            outcomes.TryRemove(Guid.ParseExact(tombstone.VmId, "N"), out _);
            unmanagedSeen.TryRemove(tombstone.VmId, out _);
        }

        foreach (var operation in desired.Operations)
        {
            await RunOperationAsync(operation, cancellationToken);
        }

        // Forget finished operations the control plane no longer lists: it has their results.
        await journal.RetainAsync(desired.Operations.Select(o => o.Id).ToHashSet(), cancellationToken);
    }

    private async Task KeepUnmanagedAsync(VmInfo vm, CancellationToken cancellationToken)
    {
        if (unmanagedSeen.TryAdd(vm.Id, true))
        {
            LogUnmanaged(logger, vm.Id, vm.PowerState.ToString().ToLowerInvariant());
        }

        if (vm.PowerState == VmPowerState.Stopped)
        {
            return;
        }

        try
        {
            // Nobody may use a VM compute does not know: its console, its size and its owner are unchecked.
            await driver.StopAsync(vm.Id, null, cancellationToken);
        }
        catch (VmDriverException e)
        {
            LogConvergeFailed(logger, e, vm.Id);
        }
    }

    private async Task ConvergeVmAsync(DesiredVm desired, VmInfo? actual, CancellationToken cancellationToken)
    {
        var id = DriverId(desired.Id);
        try
        {
            unmanagedSeen.TryRemove(id, out _);
            var size = new VmSize(desired.VCpuCount, desired.MemoryMiB, desired.DiskGiB);
            if (actual is null && desired.Created && driver.DisksOutliveTheAgent)
            {
                // Its disk was here and is gone (a lost or replaced data disk): a new, empty one in its place would
                // hide the loss from its user and their administrator. It is reported missing instead (ReportAsync).
                if (missingSeen.TryAdd(id, true))
                {
                    LogMissing(logger, id);
                }

                return;
            }

            missingSeen.TryRemove(id, out _);
            actual ??= await driver.CreateAsync(new VmSpec { Id = id, ImagePath = Path.Combine(options.ImagesFolder, desired.ImageId), Size = size }, cancellationToken);
            if (actual.Spec.Size != size)
            {
                actual = await driver.ResizeAsync(id, size, cancellationToken);
            }

            var wantRunning = desired.Power == "running";
            if (wantRunning && (actual.PowerState != VmPowerState.Running || !actual.Ready))
            {
                actual = await driver.StartAsync(id, cancellationToken);
            }
            else if (!wantRunning && actual.PowerState != VmPowerState.Stopped)
            {
                actual = await driver.StopAsync(id, null, cancellationToken);
            }

            outcomes[desired.Id] = new VmOutcome(desired.Generation, null);
        }
        catch (VmDriverException e)
        {
            LogConvergeFailed(logger, e, id);
            outcomes[desired.Id] = new VmOutcome(desired.Generation, e.Message);
        }
    }

    private async Task RunOperationAsync(DesiredOperation operation, CancellationToken cancellationToken)
    {
        if (journal.Contains(operation.Id))
        {
            return;
        }

        var id = DriverId(operation.VmId);
        ReportedOperation result;
        try
        {
            var detail = operation.Kind switch
            {
                "Restart" => (await driver.RestartAsync(id, cancellationToken)).PowerState.ToString(),
                "CreateSnapshot" => (await driver.CreateSnapshotAsync(id, operation.Argument!, cancellationToken)).Name,
                "RevertSnapshot" => (await driver.RevertSnapshotAsync(id, operation.Argument!, cancellationToken)).PowerState.ToString(),
                "DeleteSnapshot" => await DeleteSnapshotAsync(id, operation.Argument!, cancellationToken),
                "ExportSnapshot" => await ExportAsync(id, operation.Argument!, cancellationToken),
                _ => throw new VmDriverException($"This agent does not know the operation '{operation.Kind}'."),
            };
            result = new ReportedOperation(operation.Id, true, detail);
        }
        catch (VmDriverException e)
        {
            result = new ReportedOperation(operation.Id, false, e.Message);
        }

        // Journaled before it is reported: a restart between the two reports it again, and never runs it twice.
        await journal.AddAsync(result, cancellationToken);
    }

    private async Task<string> DeleteSnapshotAsync(string vmId, string name, CancellationToken cancellationToken)
    {
        await driver.DeleteSnapshotAsync(vmId, name, cancellationToken);
        return name;
    }

    private async Task<string> ExportAsync(string vmId, string argument, CancellationToken cancellationToken)
    {
        var (snapshot, destination) = ExportFolder.Target(options.ExportsFolder, argument);
        await driver.ExportSnapshotAsync(vmId, snapshot, destination, cancellationToken);
        return destination;
    }

    private async Task HeartbeatLoopAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            await Task.Delay(options.HeartbeatInterval, clock, cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            try
            {
                await ReportAsync(cancellationToken);
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
                LogControlPlaneUnreachable(logger, e.Message, 0);
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested)
            {
                // A heartbeat loop that ended here would leave the host "down" while its VMs run.
                LogPassFailed(logger, e, 0);
            }
        }
    }

    private async Task ReportAsync(CancellationToken cancellationToken)
    {
        await reporting.WaitAsync(cancellationToken);
        try
        {
            var desired = lastDesired;
            var vms = await driver.ListAsync(cancellationToken);

            // A VM compute wants or marked deleted is reported as its own (a deleted one until it is gone); any
            // other is unmanaged. Before the first desired state there is nothing to tell them apart by.
            var known = desired?.Vms.Select(v => v.Id).Concat(desired.DeletedVmIds ?? []).ToHashSet();
            var reported = new List<ReportedVm>();
            var unmanaged = new List<UnmanagedVm>();
            foreach (var vm in vms)
            {
                var vmId = Guid.ParseExact(vm.Id, "N");
                var state = vm.PowerState.ToString().ToLowerInvariant();
                if (known is null || known.Contains(vmId))
                {
                    var outcome = outcomes.GetValueOrDefault(vmId);
                    reported.Add(new ReportedVm(vmId, state, vm.Ready, outcome?.Generation ?? 0, outcome?.Error));
                }
                else
                {
                    unmanaged.Add(new UnmanagedVm(vmId, state, Path.GetFileName(vm.Spec.ImagePath.TrimEnd('/')), vm.Spec.Size.VCpus, vm.Spec.Size.MemoryMiB, vm.Spec.Size.DiskGiB));
                }
            }

            // A VM this host had and no longer has, which compute did not ask to delete: its disk is lost.
            var listed = reported.Select(v => v.Id).ToHashSet();
            foreach (var lost in desired?.Vms.Where(v => v.Created && !v.Delete && !listed.Contains(v.Id) && driver.DisksOutliveTheAgent) ?? [])
            {
                reported.Add(new ReportedVm(lost.Id, "missing", false, lost.Generation, "The VM's disk is not on this host any more."));
            }

            var report = new AgentReport(accelerator, AgentVersion, reported, journal.Results, known is null ? null : unmanaged);
            using var response = await http.PostAsJsonAsync("/api/v1/agent/report", report, Json, cancellationToken);

            // 409 means the host changed while reporting; the next report carries the same facts.
            if (!response.IsSuccessStatusCode && (int)response.StatusCode != 409)
            {
                LogReportRefused(logger, (int)response.StatusCode, await response.Content.ReadAsStringAsync(cancellationToken));
            }
        }
        finally
        {
            reporting.Release();
        }
    }

    /// <summary>The driver's name for a VM: the id without dashes (it names folders and unix sockets).</summary>
    public static string DriverId(Guid vmId) => vmId.ToString("N");

    public static string AgentVersion => typeof(HostAgentService).Assembly.GetName().Version?.ToString() ?? "0.0.0";

    private sealed record VmOutcome(long Generation, string? Error);

    [LoggerMessage(EventId = 4001, Level = LogLevel.Information, Message = "Host agent {Name} running in {Region}/{Zone} with the {Driver} driver ({Accelerator}); adopted {Count} VMs")]
    private static partial void LogStarted(ILogger logger, string name, string region, string zone, string driver, string accelerator, int count);

    [LoggerMessage(EventId = 4002, Level = LogLevel.Warning, Message = "Control plane unreachable ({Reason}); failure {Failures}, VMs keep running")]
    private static partial void LogControlPlaneUnreachable(ILogger logger, string reason, int failures);

    [LoggerMessage(EventId = 4006, Level = LogLevel.Error, Message = "The agent's pass failed (failure {Failures}); it is tried again")]
    private static partial void LogPassFailed(ILogger logger, Exception exception, int failures);

    [LoggerMessage(EventId = 4003, Level = LogLevel.Warning, Message = "Deleting VM {VmId} and its disk: compute marked it deleted")]
    private static partial void LogDeleting(ILogger logger, string vmId);

    [LoggerMessage(EventId = 4007, Level = LogLevel.Warning,
        Message = "VM {VmId} ({State}) is not in compute's desired state: kept with its disk, stopped, and reported unmanaged for the operator to adopt or delete")]
    private static partial void LogUnmanaged(ILogger logger, string vmId, string state);

    [LoggerMessage(EventId = 4008, Level = LogLevel.Error, Message = "VM {VmId} ran on this host and its disk is gone; it is reported missing, not made again empty")]
    private static partial void LogMissing(ILogger logger, string vmId);

    [LoggerMessage(EventId = 4004, Level = LogLevel.Warning, Message = "Converging VM {VmId} failed")]
    private static partial void LogConvergeFailed(ILogger logger, Exception exception, string vmId);

    [LoggerMessage(EventId = 4005, Level = LogLevel.Warning, Message = "The control plane refused a report ({Status}): {Problem}")]
    private static partial void LogReportRefused(ILogger logger, int status, string problem);
}
