using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Npgsql;
using Stratus.Testing;

namespace Stratus.Identity.Tests;

/// <summary>
/// One real stratus process on SQLite and one on PostgreSQL, shared by the identity tests, which run
/// each case against both. Tests isolate themselves by creating tenants of their own.
/// </summary>
public sealed class IdentityHosts : IAsyncLifetime
{
    private readonly PostgresServer postgres = new();
    private readonly TempFolder sqliteData = new();
    private readonly TempFolder postgresData = new();
    private string postgresConnection = "";
    private StratusProcess? sqlite;
    private StratusProcess? onPostgres;

    public async Task InitializeAsync()
    {
        await postgres.InitializeAsync();
        postgresConnection = await postgres.CreateDatabaseAsync();
        var starting = new[]
        {
            StratusProcess.StartAsync(["up"], sqliteData.Path),
            StratusProcess.StartAsync(["run", "--targets", "all", "--database", postgresConnection], postgresData.Path),
        };
        var started = await Task.WhenAll(starting);
        sqlite = started[0];
        onPostgres = started[1];
    }

    public async Task DisposeAsync()
    {
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
        "sqlite" => sqlite!,
        "postgres" => onPostgres!,
        _ => throw new ArgumentOutOfRangeException(nameof(provider)),
    };

    /// <summary>Creates a tenant with a unique domain and returns its administrator's client.</summary>
    public async Task<TestTenant> CreateTenantAsync(string provider, string? name = null)
    {
        var host = Host(provider);
        using var operatorClient = await host.OperatorClientAsync();
        var domain = $"{name ?? "t"}{Guid.NewGuid():N}"[..20] + ".test";
        const string password = "admin-password-123";
        var response = await operatorClient.PostAsJsonAsync("/api/v1/tenants", new
        {
            displayName = "Tenant " + domain,
            domain,
            admin = new { userName = "admin", password },
        });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        var tenantId = body.GetProperty("tenant").GetProperty("id").GetGuid();
        var adminId = body.GetProperty("admin").GetProperty("id").GetGuid();
        var admin = await host.SignedInClientAsync("admin@" + domain, password);
        return new TestTenant(host, tenantId, domain, adminId, admin);
    }

    /// <summary>The directory events of a tenant, read from the identity store's outbox, by sequence.</summary>
    public async Task<List<(long Sequence, string Type, JsonElement Body)>> EventsAsync(string provider, Guid tenantId)
    {
        var rows = new List<(string Type, string Body)>();
        if (provider == "sqlite")
        {
            await using var connection = new SqliteConnection($"Data Source={Path.Combine(sqliteData.Path, "db", "identity.db")};Mode=ReadOnly");
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
            .Where(r => r.Type.StartsWith("identity.", StringComparison.Ordinal) && !r.Type.StartsWith("identity.signIn", StringComparison.Ordinal))
            .Select(r => (r.Type, Body: JsonDocument.Parse(r.Body).RootElement))
            .Where(r => r.Body.GetProperty("tenantId").GetGuid() == tenantId)
            .Select(r => (r.Body.GetProperty("sequence").GetInt64(), r.Type, r.Body))
            .OrderBy(r => r.Item1)
            .ToList();
    }
}

public sealed record TestTenant(StratusProcess Host, Guid Id, string Domain, Guid AdminId, HttpClient Admin) : IDisposable
{
    public void Dispose() => Admin.Dispose();

    public async Task<Guid> CreateUserAsync(string name, string password = "user-password-123")
    {
        var response = await Admin.PostAsJsonAsync("/api/v1/users", new
        {
            userPrincipalName = name + "@" + Domain,
            displayName = name,
            passwordProfile = new { password },
        });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
    }

    public async Task<Guid> CreateGroupAsync(string name)
    {
        var response = await Admin.PostAsJsonAsync("/api/v1/groups", new { displayName = name });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
    }

    public async Task SetSeatsAsync(Guid skuId, int seats)
    {
        using var operatorClient = await Host.OperatorClientAsync();
        var response = await operatorClient.PutAsJsonAsync($"/api/v1/tenants/{Id}/subscribedSkus/{skuId}", new { prepaidUnits = seats });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }
}

[CollectionDefinition(Name)]
public sealed class IdentityCollection : ICollectionFixture<IdentityHosts>
{
    public const string Name = "identity";
}

public static class Plans
{
    public static readonly Guid Small = Guid.Parse("5c1a0000-0000-4000-8000-000000010108");
    public static readonly Guid Medium = Guid.Parse("5c1a0000-0000-4000-8000-000000020216");
}

public static class Problem
{
    /// <summary>Asserts an RFC 9457 answer with the status, and returns its body.</summary>
    public static async Task<JsonElement> AssertAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"expected {status}, got {response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var body = JsonDocument.Parse(text).RootElement;
        Assert.Equal((int)status, body.GetProperty("status").GetInt32());
        return body;
    }
}
