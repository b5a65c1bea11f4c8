using System.Data.Common;
using System.Globalization;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Stratus.Platform.Persistence;

/// <summary>
/// Lets SQLite itself wait for a database that another connection is writing (PRAGMA busy_timeout), which it
/// does in steps of a few milliseconds. Without it, Microsoft.Data.Sqlite retries a busy statement only after
/// sleeping 150 ms on the calling thread, so every brief overlap of two writers of one file cost 150 ms, and
/// under load (the benchmark's directory changes, the outbox relays and the queue worker all writing) most of
/// the time went to those sleeps. The wait is as long as the connection's Default Timeout, as before.
/// </summary>
internal sealed class SqliteBusyTimeout : DbConnectionInterceptor
{
    public static readonly SqliteBusyTimeout Instance = new();

    public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData)
    {
        using var command = Command(connection);
        command.ExecuteNonQuery();
    }

    public override async Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        await using var command = Command(connection);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static DbCommand Command(DbConnection connection)
    {
        var command = connection.CreateCommand();
        var seconds = connection is SqliteConnection sqlite ? sqlite.DefaultTimeout : 30;
        command.CommandText = string.Create(CultureInfo.InvariantCulture, $"PRAGMA busy_timeout = {seconds * 1000};");
        return command;
    }
}
