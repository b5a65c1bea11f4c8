using System.Data.Common;
using Npgsql;

namespace Stratus.Platform.Persistence;

public enum DatabaseProvider
{
    Sqlite,
    Postgres,
}

/// <summary>
/// Where every service keeps its data. SQLite: one folder, one file per service (each service owns its
/// tables; no file is shared but the platform's). PostgreSQL: one database, one schema per service.
/// </summary>
public sealed record DatabaseSettings(DatabaseProvider Provider, string Target)
{
    public const string SqlitePrefix = "sqlite:";

    /// <summary>Parses <c>sqlite:FOLDER</c> or a PostgreSQL connection string (keywords or a postgres:// URI).</summary>
    public static DatabaseSettings Parse(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var trimmed = value.Trim();
        if (trimmed.Length == 0)
        {
            throw new ConfigurationException("--database is empty: give sqlite:FOLDER or a PostgreSQL connection string such as \"Host=127.0.0.1;Port=5432;Database=stratus;Username=stratus\".");
        }

        if (trimmed.StartsWith(SqlitePrefix, StringComparison.OrdinalIgnoreCase))
        {
            var folder = trimmed[SqlitePrefix.Length..];
            if (folder.Length == 0)
            {
                throw new ConfigurationException("--database sqlite: needs a folder, for example sqlite:./.stratus/db.");
            }

            return new DatabaseSettings(DatabaseProvider.Sqlite, Path.GetFullPath(folder));
        }

        if (trimmed.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase) || trimmed.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                trimmed = FromUri(new Uri(trimmed));
            }
            catch (UriFormatException e)
            {
                throw new ConfigurationException($"--database is not a valid postgres:// URI ({e.Message}); for example postgres://stratus@127.0.0.1:5432/stratus.");
            }
        }

        NpgsqlConnectionStringBuilder builder;
        try
        {
            builder = new NpgsqlConnectionStringBuilder(trimmed);
        }
        catch (ArgumentException e)
        {
            throw new ConfigurationException($"--database is neither sqlite:FOLDER nor a valid PostgreSQL connection string ({e.Message}).");
        }

        if (string.IsNullOrWhiteSpace(builder.Host))
        {
            throw new ConfigurationException("--database: the PostgreSQL connection string has no Host; for example \"Host=127.0.0.1;Port=5432;Database=stratus;Username=stratus\".");
        }

        // Fail fast and clearly when the server is down instead of hanging for the default 15 s per try.
        // Only an explicit Timeout keyword counts: "Command Timeout" or a password with "timeout" in it do not.
        if (!new DbConnectionStringBuilder { ConnectionString = trimmed }.ContainsKey("Timeout"))
        {
            builder.Timeout = 5;
        }

        return new DatabaseSettings(DatabaseProvider.Postgres, builder.ConnectionString);
    }

    /// <summary>The connection string for one service's store.</summary>
    public string ConnectionStringFor(string schema) => Provider switch
    {
        DatabaseProvider.Sqlite => $"Data Source={Path.Combine(Target, schema + ".db")};Pooling=True;Default Timeout=30",
        DatabaseProvider.Postgres => Target,
    };

    /// <summary>A description without secrets, for log lines and errors.</summary>
    public string Describe() => Provider switch
    {
        DatabaseProvider.Sqlite => $"SQLite in {Target}",
        DatabaseProvider.Postgres => DescribePostgres(Target),
    };

    private static string DescribePostgres(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        return $"PostgreSQL at {builder.Host}:{builder.Port}/{builder.Database}";
    }

    private static string FromUri(Uri uri)
    {
        var builder = new NpgsqlConnectionStringBuilder
        {
            // IdnHost drops the brackets of an IPv6 address, which Npgsql does not accept.
            Host = uri.IdnHost,
            Port = uri.IsDefaultPort || uri.Port <= 0 ? 5432 : uri.Port,
            Database = Uri.UnescapeDataString(uri.AbsolutePath.Trim('/')),
        };
        var userInfo = uri.UserInfo.Split(':', 2);
        if (userInfo[0].Length > 0)
        {
            builder.Username = Uri.UnescapeDataString(userInfo[0]);
        }

        if (userInfo.Length > 1)
        {
            builder.Password = Uri.UnescapeDataString(userInfo[1]);
        }

        // Parameters such as ?sslmode=require must not be dropped silently: a dropped one weakens the connection.
        foreach (var parameter in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var pair = parameter.Split('=', 2);
            var keyword = Uri.UnescapeDataString(pair[0]);
            try
            {
                builder[keyword] = pair.Length > 1 ? Uri.UnescapeDataString(pair[1]) : "";
            }
            catch (ArgumentException)
            {
                throw new ConfigurationException($"--database: '{keyword}' in the postgres:// URI is not a setting that Npgsql knows; give the connection string as keywords, such as \"Host=127.0.0.1;Database=stratus;SSL Mode=Require\".");
            }
        }

        return builder.ConnectionString;
    }
}
