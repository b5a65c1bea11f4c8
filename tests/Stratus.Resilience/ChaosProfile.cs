namespace Stratus.Resilience;

/// <summary>How hard the harness pushes: CI runs the reduced profile, `make chaos` the full one.</summary>
public sealed record ChaosProfile(string Name, int Tenants, int UsersAtStart, int RealVms, TimeSpan KillDowntime, TimeSpan FaultWindow,
    TimeSpan PartitionWindow, TimeSpan SlowDatabaseWindow, TimeSpan DatabaseDelay, TimeSpan LoadPause, TimeSpan ConvergeTimeout)
{
    public static readonly ChaosProfile Reduced = new("reduced", Tenants: 2, UsersAtStart: 3, RealVms: 1,
        KillDowntime: TimeSpan.FromSeconds(3), FaultWindow: TimeSpan.FromSeconds(15), PartitionWindow: TimeSpan.FromSeconds(30),
        SlowDatabaseWindow: TimeSpan.FromSeconds(15), DatabaseDelay: TimeSpan.FromMilliseconds(100), LoadPause: TimeSpan.FromSeconds(2), ConvergeTimeout: TimeSpan.FromMinutes(3));

    public static readonly ChaosProfile Full = new("full", Tenants: 4, UsersAtStart: 10, RealVms: 2,
        KillDowntime: TimeSpan.FromSeconds(20), FaultWindow: TimeSpan.FromSeconds(60), PartitionWindow: TimeSpan.FromSeconds(30),
        SlowDatabaseWindow: TimeSpan.FromSeconds(60), DatabaseDelay: TimeSpan.FromMilliseconds(200), LoadPause: TimeSpan.FromSeconds(1), ConvergeTimeout: TimeSpan.FromMinutes(5));

    /// <summary>STRATUS_CHAOS_PROFILE=full|reduced (default reduced).</summary>
    public static ChaosProfile FromEnvironment() =>
        Environment.GetEnvironmentVariable("STRATUS_CHAOS_PROFILE") is "full" ? Full : Reduced;
}
