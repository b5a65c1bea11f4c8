namespace Stratus.Network;

/// <summary>Stratus:Network: how often and how long the checks run, and how fresh they must be to choose a connection.</summary>
public sealed class NetworkOptions
{
    /// <summary>A connection whose last run was requested longer ago gets a new one (Windows 365: 1 to 6 hours).</summary>
    public TimeSpan HealthCheckInterval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>A run completes at this age at the latest; each host that did not report by then is named.</summary>
    public TimeSpan HealthCheckRunTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Selection takes a connection only when its latest completed run ended within this age.</summary>
    public TimeSpan SelectionMaxCheckAge { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Selection runs the checks again first when the latest completed run ended longer ago than this.</summary>
    public TimeSpan PreProvisioningCheckAge { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// How long a selection waits for the runs it started (or joined). The contract says 30 s, but a service's call
    /// gives up an attempt after 15 s (ServiceCallResilience.AttemptTimeout) and would send the selection again, so
    /// the wait stays well under it.
    /// </summary>
    public TimeSpan PreProvisioningCheckWait { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Windows 365's limit per tenant (REFERENCE.md section 4).</summary>
    public int MaxConnectionsPerTenant { get; set; } = 10;

    /// <summary>How often the scheduler looks for connections due a run and runs past their deadline.</summary>
    public TimeSpan SchedulerInterval { get; set; } = TimeSpan.FromSeconds(5);

    public static readonly TimeSpan RunRetention = TimeSpan.FromDays(28);
}
