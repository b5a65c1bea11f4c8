namespace Stratus.Resilience;

/// <summary>How hard the two-region run pushes: CI runs the reduced profile, `make chaos` the full one (STRATUS_CHAOS_PROFILE).</summary>
/// <param name="Writers">Clients creating users through the front door, one write at a time each.</param>
/// <param name="LoadBefore">Load before each fault, so that the fault meets writes in flight.</param>
/// <param name="HoldAfterFailover">How long region A stays cut off once B took writes.</param>
/// <param name="PartitionWindow">How long the regions cannot reach each other.</param>
/// <param name="CloudPcs">Cloud PCs of region B's policy, on B's simulated hosts, watched through every fault.</param>
public sealed record RegionChaosProfile(string Name, int Writers, TimeSpan WriterPause, TimeSpan LoadBefore, TimeSpan HoldAfterFailover, TimeSpan PartitionWindow,
    int CloudPcs)
{
    /// <summary>
    /// The front door's failover delay in the lab, as an operator would set it: how long every instance of the writable
    /// region must have failed before the other takes writes. 20 s (the product's default is 30 s; it must exceed the
    /// 10 s lease) leaves the RTO goal of 60 s room for the promotion and the instances' next lease.
    /// </summary>
    public static readonly TimeSpan FailoverDelay = TimeSpan.FromSeconds(20);

    public static readonly RegionChaosProfile Reduced = new("reduced", Writers: 2, WriterPause: TimeSpan.FromMilliseconds(200),
        LoadBefore: TimeSpan.FromSeconds(5), HoldAfterFailover: TimeSpan.FromSeconds(5), PartitionWindow: TimeSpan.FromSeconds(20), CloudPcs: 3);

    public static readonly RegionChaosProfile Full = new("full", Writers: 4, WriterPause: TimeSpan.FromMilliseconds(50),
        LoadBefore: TimeSpan.FromSeconds(20), HoldAfterFailover: TimeSpan.FromSeconds(30), PartitionWindow: TimeSpan.FromSeconds(60), CloudPcs: 8);

    /// <summary>STRATUS_CHAOS_PROFILE=full|reduced (default reduced), as the zone harness.</summary>
    public static RegionChaosProfile FromEnvironment() => ChaosProfile.FromEnvironment().Name == "full" ? Full : Reduced;
}
