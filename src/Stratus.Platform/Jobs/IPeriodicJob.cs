using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Stratus.Platform.Regions;

namespace Stratus.Platform.Jobs;

/// <summary>
/// Work that runs every so often for the whole deployment (a reconciliation, a scheduler, a pruner), not once per
/// instance: the platform runs its passes in one instance at a time, the leader of the job's name.
/// </summary>
public interface IPeriodicJob
{
    /// <summary>Unique in the deployment: the job's leader lock and its name in logs.</summary>
    string Name { get; }

    /// <summary>The wait between the end of one pass and the start of the next; read before every wait.</summary>
    TimeSpan Interval { get; }

    /// <summary>True to run a pass as soon as this instance leads; false to wait one interval first.</summary>
    bool RunsAtStart => true;

    /// <summary>One pass. An exception is logged and the next pass runs after the interval; the token is cancelled
    /// when the process stops or this instance stops leading.</summary>
    Task RunAsync(CancellationToken cancellationToken);
}

public static class PeriodicJobServiceCollectionExtensions
{
    /// <summary>
    /// Runs <typeparamref name="TJob"/> (a singleton, which callers may also resolve to run a pass on demand) every
    /// <see cref="IPeriodicJob.Interval"/>, in the one instance that leads it.
    /// </summary>
    public static IServiceCollection AddPeriodicJob<TJob>(this IServiceCollection services)
        where TJob : class, IPeriodicJob
    {
        services.AddSingleton<TJob>();
        services.TryAddSingleton<JobLeadership>();
        services.AddRegionWritability();
        services.AddOptions<PeriodicJobOptions>().BindConfiguration("Stratus:Jobs");
        services.AddHostedService<PeriodicJobRunner<TJob>>();
        return services;
    }
}

public sealed class PeriodicJobOptions
{
    /// <summary>How often a leader checks that it still holds its lock (its connection to PostgreSQL is alive).</summary>
    public TimeSpan LeaderCheckInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How often an instance that does not lead a job tries to take it over.</summary>
    public TimeSpan LeaderRetryInterval { get; set; } = TimeSpan.FromSeconds(5);
}
