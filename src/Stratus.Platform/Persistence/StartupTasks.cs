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

            var pending = (await db.Database.GetPendingMigrationsAsync(cancellationToken)).ToList();
            if (pending.Count > 0)
            {
                await db.Database.MigrateAsync(cancellationToken);
                LogMigrated(logger, db.Schema, pending.Count, pending[^1]);
            }
        }
        catch (Exception e) when (e is NpgsqlException or SqliteException or System.Net.Sockets.SocketException or TimeoutException)
        {
            throw new ConfigurationException($"cannot open the database ({settings.Describe()}) for {db.Schema}: {Explain(e)}. Check --database and that the server is running.", e);
        }
    }

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
