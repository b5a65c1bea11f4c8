using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Npgsql;
using Stratus.Testing;

namespace Stratus.Identity.Scim.Tests.Support;

/// <summary>
/// One real stratus process on SQLite (`stratus up`) and one on PostgreSQL (`stratus run --targets all`),
/// shared by every SCIM test. Tests isolate themselves by creating tenants of their own.
/// </summary>
public sealed class ScimHosts : IAsyncLifetime
{
    public const string Sqlite = "sqlite";
    public const string Postgres = "postgres";

    private readonly PostgresServer postgres = new();
    private readonly TempFolder sqliteData = new();
    private readonly TempFolder postgresData = new();
    private readonly ConcurrentDictionary<string, Lazy<Task<object>>> shared = new();
    private readonly ConcurrentDictionary<string, Lazy<Task<HttpClient>>> operators = new();
    private string postgresConnection = "";
    private StratusProcess? sqlite;
    private StratusProcess? onPostgres;

    public static TheoryData<string> Providers => [Sqlite, Postgres];

    public async Task InitializeAsync()
    {
        var startingSqlite = StratusProcess.StartAsync(["up"], sqliteData.Path);
        await postgres.InitializeAsync();
        postgresConnection = await postgres.CreateDatabaseAsync();
        onPostgres = await StratusProcess.StartAsync(["run", "--targets", "all", "--database", postgresConnection], postgresData.Path);
        sqlite = await startingSqlite;
    }

    public async Task DisposeAsync()
    {
        foreach (var client in operators.Values.Where(c => c.IsValueCreated && c.Value.IsCompletedSuccessfully))
        {
            (await client.Value).Dispose();
        }

        foreach (var value in shared.Values.Where(v => v.IsValueCreated && v.Value.IsCompletedSuccessfully))
        {
            (await value.Value as IDisposable)?.Dispose();
        }

        if (sqlite is not null)
        {
            await sqlite.DisposeAsync();
        }

        if (onPostgres is not null)
        {
            await onPostgres.DisposeAsync();
        }

        await postgres.DisposeAsync();
        sqliteData.Dispose();
        postgresData.Dispose();
    }

    public StratusProcess Host(string provider) => provider switch
    {
        Sqlite => sqlite!,
        Postgres => onPostgres!,
        _ => throw new ArgumentOutOfRangeException(nameof(provider)),
    };

    /// <summary>The platform operator of a host, signed in once.</summary>
    public Task<HttpClient> OperatorAsync(string provider) =>
        operators.GetOrAdd(provider, p => new Lazy<Task<HttpClient>>(() => Host(p).OperatorClientAsync())).Value;

    /// <summary>Set-up that several tests share (made once, on first use).</summary>
    public async Task<T> SharedAsync<T>(string key, Func<Task<T>> create)
        where T : class =>
        (T)await shared.GetOrAdd(key, _ => new Lazy<Task<object>>(async () => await create())).Value;

    /// <summary>Creates a tenant with a unique domain, signs its administrator in and creates its SCIM token.</summary>
    public async Task<ScimTenant> CreateTenantAsync(string provider, string name = "t")
    {
        var host = Host(provider);
        var operatorClient = await OperatorAsync(provider);
        var domain = $"{name}{Guid.NewGuid():N}"[..16] + ".test";
        const string password = "admin-password-123";
        using var response = await operatorClient.PostAsJsonAsync("/api/v1/tenants", new
        {
            displayName = "Tenant " + domain,
            domain,
            admin = new { userName = "admin@" + domain, password },
        });
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        var admin = await host.SignedInClientAsync("admin@" + domain, password);
        var tenant = new ScimTenant(this, provider, host, body.GetProperty("tenant").GetProperty("id").GetGuid(), domain,
            body.GetProperty("admin").GetProperty("id").GetGuid(), admin);
        await tenant.CreateScimTokenAsync();
        return tenant;
    }

    /// <summary>What the SQLite instance stores of a tenant's SCIM token.</summary>
    public async Task<(string? Hash, string? CreatedAt)> StoredScimTokenAsync(Guid tenantId)
    {
        await using var connection = new SqliteConnection($"Data Source={Path.Combine(sqliteData.Path, "db", "identity.db")};Mode=ReadOnly;Pooling=False");
        await connection.OpenAsync();
        await using var command = new SqliteCommand("SELECT ScimTokenHash, ScimTokenCreatedAt FROM tenants WHERE upper(Id) = upper($id)", connection);
        command.Parameters.AddWithValue("$id", tenantId.ToString());
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync(), $"No tenant {tenantId} in the SQLite store.");
        return (reader.IsDBNull(0) ? null : reader.GetString(0), reader.IsDBNull(1) ? null : reader.GetValue(1).ToString());
    }

    /// <summary>The directory events of a tenant, from the identity store's outbox, in sequence order.</summary>
    public async Task<List<DirectoryEvent>> EventsAsync(string provider, Guid tenantId)
    {
        var rows = new List<(string Type, string Body)>();
        if (provider == Sqlite)
        {
            await using var connection = new SqliteConnection($"Data Source={Path.Combine(sqliteData.Path, "db", "identity.db")};Mode=ReadOnly;Pooling=False");
            await connection.OpenAsync();
            await using var command = new SqliteCommand("SELECT MessageType, Body FROM outbox_messages", connection);
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                rows.Add((reader.GetString(0), reader.GetString(1)));
            }
        }
        else
        {
            await using var connection = new NpgsqlConnection(postgresConnection);
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand("SELECT \"MessageType\", \"Body\" FROM identity.outbox_messages", connection);
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                rows.Add((reader.GetString(0), reader.GetString(1)));
            }
        }

        return rows
            .Select(r => (r.Type, Body: JsonDocument.Parse(r.Body).RootElement.Clone()))
            .Where(r => r.Body.TryGetProperty("sequence", out _) && r.Body.TryGetProperty("tenantId", out var tid) && tid.GetGuid() == tenantId)
            .Select(r => new DirectoryEvent(r.Body.GetProperty("sequence").GetInt64(), r.Type, r.Body))
            .OrderBy(e => e.Sequence)
            .ToList();
    }
}

public sealed record DirectoryEvent(long Sequence, string Type, JsonElement Body)
{
    public override string ToString() => $"{Sequence} {Type}";
}

/// <summary>A tenant of a test: its administrator (a JWT) and a SCIM client (the tenant's SCIM token).</summary>
public sealed class ScimTenant(ScimHosts hosts, string provider, StratusProcess host, Guid id, string domain, Guid adminId, HttpClient admin) : IDisposable
{
    public string Provider => provider;

    public StratusProcess Host => host;

    public Guid Id => id;

    public string Domain => domain;

    public Guid AdminId => adminId;

    /// <summary>The tenant administrator, signed in with a JWT, for /api/v1.</summary>
    public HttpClient Admin => admin;

    public string Token { get; private set; } = "";

    /// <summary>A client that sends the tenant's current SCIM token.</summary>
    public HttpClient Scim { get; private set; } = new();

    public string Upn(string name) => $"{name}@{domain}";

    public async Task<string> CreateScimTokenAsync()
    {
        using var response = await admin.PostAsync("/api/v1/scim/token", null);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"POST /api/v1/scim/token answered {(int)response.StatusCode}: {text}");
        var body = JsonDocument.Parse(text).RootElement;
        Token = body.GetProperty("token").GetString()!;
        Scim.Dispose();
        Scim = ClientWith(Token);
        return Token;
    }

    public HttpClient ClientWith(string bearer)
    {
        var client = new HttpClient { BaseAddress = host.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        return client;
    }

    /// <summary>The tenant's directory sequence: how many directory events it has published.</summary>
    public async Task<long> SequenceAsync()
    {
        var state = await admin.GetFromJsonAsync<JsonElement>("/api/v1/directoryState?$top=1");
        return state.GetProperty("sequence").GetInt64();
    }

    public Task<List<DirectoryEvent>> EventsAsync() => hosts.EventsAsync(provider, id);

    /// <summary>The user as Stratus's own API shows it; null when it does not exist.</summary>
    public async Task<JsonElement?> ApiUserAsync(string userId)
    {
        using var response = await admin.GetAsync($"/api/v1/users/{userId}");
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    /// <summary>The ids of a group's members, from Stratus's own API.</summary>
    public async Task<List<string>> ApiMembersAsync(string groupId)
    {
        var page = await admin.GetFromJsonAsync<JsonElement>($"/api/v1/groups/{groupId}/members");
        return [.. page.GetProperty("value").EnumerateArray().Select(u => u.GetProperty("id").GetString()!).Order(StringComparer.Ordinal)];
    }

    public void Dispose()
    {
        admin.Dispose();
        Scim.Dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class ScimCollection : ICollectionFixture<ScimHosts>
{
    public const string Name = "SCIM";
}
