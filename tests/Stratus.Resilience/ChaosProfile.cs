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

    /// <summary>Only the faults whose name contains this (STRATUS_CHAOS_FAULTS, e.g. "partition"); all when null.</summary>
    public string? FaultFilter { get; init; }

    /// <summary>How many times the faults run, one after the other (STRATUS_CHAOS_ROUNDS, default 1): a rare failure needs many tries.</summary>
    public int Rounds { get; init; } = 1;

    /// <summary>STRATUS_CHAOS_PROFILE=full|reduced (default reduced), STRATUS_CHAOS_FAULTS, STRATUS_CHAOS_ROUNDS.</summary>
    public static ChaosProfile FromEnvironment()
    {
        var profile = Environment.GetEnvironmentVariable("STRATUS_CHAOS_PROFILE") is "full" ? Full : Reduced;
        var rounds = Environment.GetEnvironmentVariable("STRATUS_CHAOS_ROUNDS");
        return profile with
        {
            FaultFilter = Environment.GetEnvironmentVariable("STRATUS_CHAOS_FAULTS") is { Length: > 0 } filter ? filter : null,
            Rounds = rounds is null ? 1 : int.TryParse(rounds, out var n) && n >= 1
                ? n
                : throw new ArgumentException($"STRATUS_CHAOS_ROUNDS must be a whole number of at least 1, not '{rounds}'."),
        };
    }
}
