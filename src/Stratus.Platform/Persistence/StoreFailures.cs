using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Stratus.Platform.Persistence;

/// <summary>
/// Tells a store that cannot be reached (down, failing over, refusing connections, busy) from a request's own
/// error: the first is answered 503 with Retry-After, as the service will answer again once the store is back.
/// </summary>
public static class StoreFailures
{
    public static bool IsUnavailable(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                // An error the server sent about the statement itself (a constraint, a type) is the request's.
                case PostgresException server:
                    return server.Severity is "FATAL" or "PANIC"
                        || server.SqlState.StartsWith("08", StringComparison.Ordinal) // connection exceptions
                        || server.SqlState is PostgresErrorCodes.ReadOnlySqlTransaction // a former primary, after a failover
                            or PostgresErrorCodes.AdminShutdown or PostgresErrorCodes.CrashShutdown or PostgresErrorCodes.CannotConnectNow
                            or PostgresErrorCodes.TooManyConnections;
                // No server answer at all: no host reachable, none writable, a broken connection, a timeout.
                case NpgsqlException:
                    return true;
                case SqliteException sqlite:
                    return sqlite.SqliteErrorCode is 5 or 6; // SQLITE_BUSY, SQLITE_LOCKED
                case DbException { IsTransient: true }:
                    return true;
                case TimeoutException:
                    return true;
            }
        }

        return false;
    }
}
