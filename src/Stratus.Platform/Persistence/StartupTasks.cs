using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Stratus.Platform.Persistence;

/// <summary>Work that must finish before the host serves a request: migrations, subscriptions, keys.</summary>
public interface IStartupTask
{
    Task RunAsync(IServiceProvider services, CancellationToken cancellationToken);

    /// <summary>
    /// False for a task that only reads the store or touches files. A task that may write (the default, the safe
    /// answer) should check first and write only what is missing, so that where everything is there already (a standby
    /// region's store, replicated from the writable one) it completes without writing. In a region of several, a
    /// writing task the store refuses as read-only waits until the instance becomes writable
    /// (<see cref="Regions.DeferredStartupTasks"/>).
    /// </summary>
    bool Writes => true;
}

/// <summary>Tells a write the store refused because it is read-only (a standby) from every other failure.</summary>
public static class ReadOnlyStore
{
    /// <summary>
    /// True when <paramref name="e"/> or an exception it wraps is PostgreSQL's read_only_sql_transaction (25006): a hot
    /// standby, or a database or session set to default_transaction_read_only.
    /// </summary>
    public static bool Refused(Exception e)
    {
        for (var cause = e; cause is not null; cause = cause.InnerException)
        {
            if (cause is PostgresException { SqlState: PostgresErrorCodes.ReadOnlySqlTransaction })
            {
                return true;
            }
        }

        return false;
    }
}

/// <summary>Applies a store's migrations at start; safe when several instances start together.</summary>
internal sealed partial class MigrateDatabase<TContext>(DatabaseSettings settings) : IStartupTask
    where TContext : StratusDbContext
{
    public async Task RunAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TContext>();
        var logger = scope.ServiceProvider.GetRequiredService<ILogger<MigrateDatabase<TContext>>>();
        try
        {
            if (settings.Provider == DatabaseProvider.Sqlite)
            {
                // WAL lets readers go on while one writer commits; it is a property of the file and stays.
                await db.Database.OpenConnectionAsync(cancellationToken);
                await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", cancellationToken);
                await db.Database.CloseConnectionAsync();
            }

            if (settings.Provider == DatabaseProvider.Postgres)
            {
                // Instances that start together on one PostgreSQL would otherwise both apply the same
                // migration (the second fails with "relation already exists"): one at a time per schema.
                await db.Database.OpenConnectionAsync(cancellationToken);
                try
                {
                    await db.Database.ExecuteSqlRawAsync("SELECT pg_advisory_lock({0})", [LockKey(db.Schema)], cancellationToken);
                    await MigratePendingAsync(db, logger, cancellationToken);
                }
                finally
                {
                    await db.Database.ExecuteSqlRawAsync("SELECT pg_advisory_unlock({0})", [LockKey(db.Schema)], CancellationToken.None);
                    await db.Database.CloseConnectionAsync();
                }
            }
            else
            {
                await MigratePendingAsync(db, logger, cancellationToken);
            }
        }
        catch (Exception e) when (IsDatabaseFailure(e) || (e is InvalidOperationException && e.InnerException is { } inner && IsDatabaseFailure(inner)))
        {
            // The retrying execution strategy reports a connection that kept failing as an InvalidOperationException around it.
            var cause = IsDatabaseFailure(e) ? e : e.InnerException!;
            throw new ConfigurationException($"cannot open the database ({settings.Describe()}) for {db.Schema}: {Explain(cause)}. Check --database and that the server is running.", e);
        }
    }

    private static async Task MigratePendingAsync(TContext db, ILogger logger, CancellationToken cancellationToken)
    {
        var pending = (await db.Database.GetPendingMigrationsAsync(cancellationToken)).ToList();
        if (pending.Count > 0)
        {
            await db.Database.MigrateAsync(cancellationToken);
            LogMigrated(logger, db.Schema, pending.Count, pending[^1]);
        }
    }

    /// <summary>A fixed advisory lock key per schema, the same in every instance.</summary>
    private static long LockKey(string schema) => AdvisoryLockKey.For("stratus-migrate:" + schema);

    private static bool IsDatabaseFailure(Exception e) => e is NpgsqlException or SqliteException or System.Net.Sockets.SocketException or TimeoutException;

    private static string Explain(Exception e) => e switch
    {
        NpgsqlException { InnerException: System.Net.Sockets.SocketException socket } => socket.Message,
        NpgsqlException { InnerException: TimeoutException } => "the connection timed out",
        PostgresException p => p.MessageText,
        _ => e.Message,
    };

    [LoggerMessage(EventId = 1201, Level = LogLevel.Information, Message = "Store {Schema}: applied {Count} migrations, now at {Latest}")]
    private static partial void LogMigrated(ILogger logger, string schema, int count, string latest);
}
