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
    // Fields, not captured parameters: the other parts of this partial class (the converge pass, reports,
    // enrollment, in HostAgentService.*.cs) cannot see a primary constructor's parameters.
    private readonly IVmDriver driver = driver;
    private readonly AgentOptions options = options;
    private readonly string accelerator = accelerator;
    private readonly HttpClient http = http;
    private readonly TimeProvider clock = clock;
    private readonly ILogger<HostAgentService> logger = logger;
    private readonly VmEpochs epochs = new(options.DataFolder);
    private readonly DiskCopyScheduler copies = new(driver, options, clock, logger);
    private readonly Networks.HostNetworks networks = new(options.DataFolder, clock, logger);

    public const string TokenHeader = "X-Stratus-Agent-Token";
    public const string IdentityFile = "agent.json";
    private const string JournalFile = "operations.json";
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly ConcurrentDictionary<Guid, VmOutcome> outcomes = new();
    private readonly ConcurrentDictionary<string, bool> unmanagedSeen = new();
    private readonly ConcurrentDictionary<string, bool> missingSeen = new();

    /// <summary>VMs whose disk here was made for an older epoch than compute's (they live elsewhere now): never started, never copied.</summary>
    private readonly ConcurrentDictionary<string, bool> fenced = new();
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
        await copies.LoadAsync(stoppingToken);
        var adopted = await driver.AdoptAsync(stoppingToken);
        LogStarted(logger, options.Name, identity.Region, identity.Zone, driver.Name, accelerator, adopted.Count);

        using var heartbeat = new CancellationTokenSource();
        var heartbeats = HeartbeatLoopAsync(CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, heartbeat.Token).Token);
        var copyLoop = CopyLoopAsync(CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, heartbeat.Token).Token);
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
        await copyLoop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
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
