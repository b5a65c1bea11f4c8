using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Stratus.Platform.Persistence;

/// <summary>
/// Reads go on while PostgreSQL fails over. Between the loss of the primary and the standby's promotion (about
/// 10 s under Patroni) no node takes writes, but the synchronous standby holds every committed transaction and
/// can answer reads. A GET or HEAD request's store therefore connects with Target Session Attributes=prefer-primary
/// (the primary while there is one, else a standby); everything else keeps the configured read-write. A GET that
/// writes (the console's ticket) still needs the primary: on a standby it fails with read_only_sql_transaction,
/// which is answered 503 like any store failure. Reads also retry on a transient failure (a read runs again
/// safely); a GET that opens a transaction of its own must run it in the store's execution strategy.
/// </summary>
internal static class StandbyReads
{
    /// <summary>A read retried on a new connection this often at most: each pooled connection to a lost primary fails once.</summary>
    public const int MaxRetries = 3;

    public static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(2);

    /// <summary>The connection string for reads: prefer-primary where the configured one lists several hosts and wants the writable one.</summary>
    public static string ConnectionStringFor(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        var severalHosts = builder.Host?.Contains(',', StringComparison.Ordinal) == true;
        if (!severalHosts || builder.TargetSessionAttributes?.ToLowerInvariant() is not ("read-write" or "primary"))
        {
            return connectionString;
        }

        builder.TargetSessionAttributes = "prefer-primary";
        return builder.ConnectionString;
    }

    /// <summary>Whether the store is being made for a request that only reads.</summary>
    public static bool ForReadRequest(IServiceProvider provider) =>
        provider.GetService<IHttpContextAccessor>()?.HttpContext?.Request.Method is { } method && (HttpMethods.IsGet(method) || HttpMethods.IsHead(method));
}
