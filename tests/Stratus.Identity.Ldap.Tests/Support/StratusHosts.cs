using Microsoft.Data.Sqlite;
using Npgsql;
using Stratus.Testing;

namespace Stratus.Identity.Ldap.Tests.Support;

/// <summary>
/// The real stratus binary twice, shared by every LDAP test: `stratus up` on SQLite and `stratus run
/// --targets all` on a fresh database of a real PostgreSQL server. Tests keep apart by creating a
/// tenant of their own.
/// </summary>
public sealed class StratusHosts : IAsyncLifetime
{
    public const string Sqlite = "sqlite";
    public const string Postgres = "postgres";

    private readonly PostgresServer postgres = new();
    private readonly TempFolder sqliteData = new();
    private readonly TempFolder postgresData = new();
    private readonly Dictionary<string, HttpClient> operators = [];
    private StratusProcess? sqlite;
    private StratusProcess? postgresHost;

    /// <summary>The PostgreSQL database the `run` host uses, to look at what it stores.</summary>
    public string PostgresDatabase { get; private set; } = "";

    public StratusProcess this[string provider] => provider switch
    {
        Sqlite => sqlite ?? throw new InvalidOperationException("The fixture has not started."),
        Postgres => postgresHost ?? throw new InvalidOperationException("The fixture has not started."),
        _ => throw new ArgumentOutOfRangeException(nameof(provider), provider, "sqlite or postgres"),
    };

    /// <summary>The platform operator of a host, signed in once.</summary>
    public HttpClient Operator(string provider) => operators[provider];

    /// <summary>How many rows of an identity table belong to the tenant, read from the host's database directly.</summary>
    public async Task<long> CountRowsAsync(string provider, string table, Guid tenantId)
    {
        if (provider == Sqlite)
        {
            var path = Path.Combine(this[Sqlite].DataFolder, "db", "identity.db");
            await using var connection = new SqliteConnection($"Data Source={path};Mode=ReadOnly;Pooling=False");
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = $"SELECT COUNT(*) FROM {table} WHERE \"TenantId\" = $tenant";
            command.Parameters.AddWithValue("$tenant", tenantId.ToString().ToUpperInvariant());
            return (long)(await command.ExecuteScalarAsync())!;
        }

        await using var postgresConnection = new NpgsqlConnection(PostgresDatabase);
        await postgresConnection.OpenAsync();
        await using var postgresCommand = new NpgsqlCommand($"SELECT COUNT(*) FROM identity.{table} WHERE \"TenantId\" = @tenant", postgresConnection);
        postgresCommand.Parameters.AddWithValue("tenant", tenantId);
        return (long)(await postgresCommand.ExecuteScalarAsync())!;
    }

    public async Task InitializeAsync()
    {
        // The schedule test runs syncs seconds apart; every other test sets an interval of an hour.
        var environment = new Dictionary<string, string?> { ["Stratus__Ldap__MinimumSyncInterval"] = "00:00:01" };
        var up = StratusProcess.StartAsync(["up"], sqliteData.Path, environment);
        await postgres.InitializeAsync();
        PostgresDatabase = await postgres.CreateDatabaseAsync();
        var run = StratusProcess.StartAsync(["run", "--targets", "all", "--database", PostgresDatabase], postgresData.Path, environment);
        sqlite = await up;
        postgresHost = await run;
        operators[Sqlite] = await sqlite.OperatorClientAsync();
        operators[Postgres] = await postgresHost.OperatorClientAsync();
    }

    public async Task DisposeAsync()
    {
        foreach (var client in operators.Values)
        {
            client.Dispose();
        }

        if (sqlite is not null)
        {
            await sqlite.DisposeAsync();
        }

        if (postgresHost is not null)
        {
            await postgresHost.DisposeAsync();
        }

        await postgres.DisposeAsync();
        sqliteData.Dispose();
        postgresData.Dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class StratusHostsCollection : ICollectionFixture<StratusHosts>
{
    public const string Name = "LDAP on SQLite and PostgreSQL";
}
