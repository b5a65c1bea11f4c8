using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Stratus.Platform.Persistence;

namespace Stratus.Platform.Jobs;

/// <summary>The right to run a job's passes; <see cref="Lost"/> is cancelled when another instance may have it.</summary>
internal interface ILeaderLease : IAsyncDisposable
{
    CancellationToken Lost { get; }
}

/// <summary>
/// Elects one leader per job name. On PostgreSQL: a session-level advisory lock, held by a connection of its own
/// that lives as long as the leadership. When that connection breaks (a failover, a network cut, the server ending
/// the session) the server releases the lock and another instance takes it; the former leader sees the broken
/// connection at its next check and stops its pass. On SQLite there is one process, which always leads.
/// </summary>
internal sealed partial class JobLeadership(DatabaseSettings settings, IOptions<PeriodicJobOptions> options, ILogger<JobLeadership> logger)
{
    private readonly string? lockConnectionString = settings.Provider == DatabaseProvider.Postgres
        ? new NpgsqlConnectionStringBuilder(settings.ConnectionStringFor("platform"))
        {
            // Not pooled: a pooled connection closed by us would go back to the pool with the lock still held.
            Pooling = false,
            ApplicationName = "stratus-leader",
            KeepAlive = 10,
        }.ConnectionString
        : null;

    /// <summary>Waits until this instance leads <paramref name="job"/>, trying every LeaderRetryInterval.</summary>
    public async Task<ILeaderLease> AcquireAsync(string job, CancellationToken cancellationToken)
    {
        if (lockConnectionString is null)
        {
            return SoleProcessLease.Instance;
        }

        var key = AdvisoryLockKey.For("stratus-job:" + job);
        while (true)
        {
            var connection = new NpgsqlConnection(lockConnectionString);
            try
            {
                await connection.OpenAsync(cancellationToken);
                await using var command = new NpgsqlCommand("SELECT pg_try_advisory_lock(@key)", connection);
                command.Parameters.AddWithValue("key", key);
                if (await command.ExecuteScalarAsync(cancellationToken) is true)
                {
                    LogLeading(logger, job);
                    return new AdvisoryLockLease(connection, job, options.Value.LeaderCheckInterval, logger);
                }
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested)
            {
                LogCannotElect(logger, e, job);
            }

            await connection.DisposeAsync();
            await Task.Delay(options.Value.LeaderRetryInterval, cancellationToken);
        }
    }

    private sealed class SoleProcessLease : ILeaderLease
    {
        public static readonly SoleProcessLease Instance = new();

        public CancellationToken Lost => CancellationToken.None;

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    /// <summary>Holds the lock's connection and checks it every interval; closing the connection releases the lock.</summary>
    private sealed class AdvisoryLockLease : ILeaderLease
    {
        private readonly NpgsqlConnection connection;
        private readonly CancellationTokenSource lost = new();
        private readonly CancellationTokenSource disposed = new();
        private readonly Task watching;

        public AdvisoryLockLease(NpgsqlConnection connection, string job, TimeSpan checkEvery, ILogger logger)
        {
            this.connection = connection;
            watching = WatchAsync(job, checkEvery, logger);
        }

        public CancellationToken Lost => lost.Token;

        private async Task WatchAsync(string job, TimeSpan checkEvery, ILogger logger)
        {
            try
            {
                while (true)
                {
                    await Task.Delay(checkEvery, disposed.Token);
                    using var deadline = CancellationTokenSource.CreateLinkedTokenSource(disposed.Token);
                    deadline.CancelAfter(checkEvery + TimeSpan.FromSeconds(5));
                    await using var command = new NpgsqlCommand("SELECT 1", connection);
                    await command.ExecuteScalarAsync(deadline.Token);
                }
            }
            catch (Exception) when (disposed.IsCancellationRequested)
            {
                // Released by its owner.
            }
            catch (Exception e)
            {
                // The session, and with it the lock, may be gone: another instance may lead from now on.
                LogLeadershipLost(logger, e, job);
                await lost.CancelAsync();
            }
        }

        public async ValueTask DisposeAsync()
        {
            await disposed.CancelAsync();
            await watching;
            await connection.DisposeAsync();
            lost.Dispose();
            disposed.Dispose();
        }
    }

    [LoggerMessage(EventId = 1501, Level = LogLevel.Information, Message = "This instance now leads the periodic job {Job}")]
    private static partial void LogLeading(ILogger logger, string job);

    [LoggerMessage(EventId = 1502, Level = LogLevel.Warning, Message = "Could not ask the database which instance leads the periodic job {Job}; trying again")]
    private static partial void LogCannotElect(ILogger logger, Exception exception, string job);

    [LoggerMessage(EventId = 1503, Level = LogLevel.Warning, Message = "Lost the leader lock of the periodic job {Job}: its connection failed; its pass is stopped")]
    private static partial void LogLeadershipLost(ILogger logger, Exception exception, string job);
}
