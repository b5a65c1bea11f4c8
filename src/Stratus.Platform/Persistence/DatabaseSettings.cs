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
            trimmed = FromUri(new Uri(trimmed));
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
        if (!trimmed.Contains("timeout", StringComparison.OrdinalIgnoreCase))
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
            Host = uri.Host,
            Port = uri.IsDefaultPort || uri.Port <= 0 ? 5432 : uri.Port,
            Database = uri.AbsolutePath.Trim('/'),
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

        return builder.ConnectionString;
    }
}
