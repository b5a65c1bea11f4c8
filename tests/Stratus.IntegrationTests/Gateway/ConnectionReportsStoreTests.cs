using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Stratus.Gateway.Connect;
using Stratus.Gateway.History;
using Stratus.Gateway.Persistence;
using Stratus.Gateway.Reports;
using Stratus.Platform.Persistence;
using Stratus.Testing;

namespace Stratus.IntegrationTests.Gateway;

/// <summary>
/// The utilization and connection quality reports computed from a real gateway store (SQLite, PostgreSQL) migrated as
/// the service migrates it, on a fake clock moved across weeks; and the connection history's 28-day pruner.
/// </summary>
public sealed class ConnectionReportsStoreTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Start = new(2026, 3, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly Guid Tenant = Guid.NewGuid();
    private static readonly Guid OtherTenant = Guid.NewGuid();
    private static readonly Guid PcA = Guid.Parse("0000000a-0000-4000-8000-000000000000");
    private static readonly Guid PcB = Guid.Parse("0000000b-0000-4000-8000-000000000000");
    private static readonly Guid PcC = Guid.Parse("0000000c-0000-4000-8000-000000000000");
    private static readonly Guid PcD = Guid.Parse("0000000d-0000-4000-8000-000000000000");
    private static readonly Guid PcE = Guid.Parse("0000000e-0000-4000-8000-000000000000");
    private readonly PostgresServer postgres = new();
    private readonly TempFolder sqliteFolder = new();

    public Task InitializeAsync() => postgres.InitializeAsync();

    public async Task DisposeAsync()
    {
        await postgres.DisposeAsync();
        sqliteFolder.Dispose();
    }

    public static TheoryData<DatabaseProvider> Providers() => new() { DatabaseProvider.Sqlite, DatabaseProvider.Postgres };

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task Utilization_counts_hours_in_the_last_28_days_by_the_clock_and_the_pruner_keeps_28_days(DatabaseProvider provider)
    {
        var clock = new FakeTimeProvider(Start);
        await using var services = await StoreAsync(provider, clock);
        await AddAsync(services, db =>
        {
            Session(db, Tenant, PcA, At(0, 0), At(0, 10)); // before the window at day 30
            Session(db, Tenant, PcA, At(1, 20), At(2, 6)); // straddles its start: 6 h
            Session(db, Tenant, PcA, At(20, 0), At(20, 5)); // overlapping: 8 h together
            Session(db, Tenant, PcA, At(20, 3), At(20, 8));
            Session(db, Tenant, PcA, At(29, 22), null); // open: 2 h at day 30
            Session(db, Tenant, PcB, At(10, 0), At(11, 21)); // 45 h
            Session(db, Tenant, PcC, At(12, 0), At(13, 16)); // 40 h
            Session(db, Tenant, PcC, At(14, 0), At(15, 16)); // and 40 h more
            Session(db, Tenant, PcC, At(16, 0), At(16, 0) + TimeSpan.FromMinutes(6)); // and 0.1 h: over 80
            Refusal(db, Tenant, PcD, At(3, 0)); // known to the gateway, never connected
            Session(db, OtherTenant, PcE, At(10, 0), At(15, 0)); // another tenant's
        });

        clock.SetUtcNow(At(30, 0));
        var rows = await UtilizationAsync(services, clock);
        Assert.Equal([PcC, PcB, PcA, PcD], rows.Select(r => r.CloudPcId));
        Assert.Equal((16, "low", 4), Row(rows, PcA));
        Assert.Equal((45, "average", 1), Row(rows, PcB));
        Assert.Equal((80.1, "high", 3), Row(rows, PcC));
        Assert.Equal((0, "neverConnected", 0), Row(rows, PcD));
        Assert.Equal(At(30, 0), rows.Single(r => r.CloudPcId == PcA).LastConnectedDateTime);

        // Three days on: the straddler has left the window and the open session has run 74 h.
        clock.SetUtcNow(At(33, 0));
        rows = await UtilizationAsync(services, clock);
        Assert.Equal((82, "high", 3), Row(rows, PcA));

        // The pruner forgets what ended more than 28 days ago, and the refusal of day 3; the open session stays.
        var pruner = new ConnectionHistoryPruner(services.GetRequiredService<IServiceScopeFactory>(), clock, NullLogger<ConnectionHistoryPruner>.Instance);
        Assert.True(await pruner.PruneAsync(CancellationToken.None) >= 3);
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<GatewayDbContext>();
        Assert.Equal(0, await db.ConnectionRefusals.CountAsync());
        Assert.Equal(0, await db.RoundTripSamples.CountAsync(s => s.SentAt < At(5, 0)));
        Assert.Equal(3, await db.Sessions.CountAsync(s => s.CloudPcId == PcA));
        Assert.Equal(1, await db.Sessions.CountAsync(s => s.EndedAt == null));
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task Connection_quality_is_p50_and_p95_per_cloud_pc_per_day_in_the_window(DatabaseProvider provider)
    {
        var clock = new FakeTimeProvider(Start);
        await using var services = await StoreAsync(provider, clock);
        await AddAsync(services, db =>
        {
            Samples(db, Session(db, Tenant, PcA, At(0, 0), At(0, 10)), At(0, 1), 900); // before the window
            var morning = Session(db, Tenant, PcA, At(20, 0), At(20, 5));
            Samples(db, morning, At(20, 1), 70, 50, 250);
            Samples(db, Session(db, Tenant, PcA, At(20, 6), At(20, 8)), At(20, 7), 60, 80);
            Samples(db, Session(db, Tenant, PcB, At(10, 0), At(11, 21)), At(10, 1), 150, 150, 150);
            Samples(db, Session(db, Tenant, PcB, At(11, 22), At(11, 23)), At(11, 22), 300);
            Samples(db, Session(db, OtherTenant, PcE, At(20, 0), At(20, 1)), At(20, 0), 10);
        });

        clock.SetUtcNow(At(30, 0));
        List<ConnectionQualityRow> rows;
        await using (var scope = services.CreateAsyncScope())
        {
            rows = [.. await ConnectionReports.QualityAsync(scope.ServiceProvider.GetRequiredService<GatewayDbContext>(), Tenant, clock.GetUtcNow(), CancellationToken.None)];
        }

        Assert.Equal(3, rows.Count);
        Assert.Equal(new ConnectionQualityRow(PcA, DateOnly.FromDateTime(At(20, 0).UtcDateTime), 2, 5, 70, 250, "good"), rows[0]);
        Assert.Equal(new ConnectionQualityRow(PcB, DateOnly.FromDateTime(At(11, 0).UtcDateTime), 1, 1, 300, 300, "high"), rows[1]);
        Assert.Equal(new ConnectionQualityRow(PcB, DateOnly.FromDateTime(At(10, 0).UtcDateTime), 1, 3, 150, 150, "average"), rows[2]);
    }

    private static (double Hours, string Category, int Sessions) Row(IReadOnlyList<UtilizationRow> rows, Guid pc) =>
        rows.Single(r => r.CloudPcId == pc) is var row ? (row.HoursConnected, row.UtilizationCategory, row.SessionCount) : default;

    private static async Task<IReadOnlyList<UtilizationRow>> UtilizationAsync(IServiceProvider services, TimeProvider clock)
    {
        await using var scope = services.CreateAsyncScope();
        return await ConnectionReports.UtilizationAsync(scope.ServiceProvider.GetRequiredService<GatewayDbContext>(), Tenant, clock.GetUtcNow(), CancellationToken.None);
    }

    private static ConsoleSession Session(GatewayDbContext db, Guid tenant, Guid pc, DateTimeOffset start, DateTimeOffset? end)
    {
        var session = new ConsoleSession
        {
            Id = Guid.NewGuid(), TenantId = tenant, UserId = Guid.NewGuid(), UserName = "ada@example.test", CloudPcId = pc, StartedAt = start, EndedAt = end,
            EndedBy = end is null ? null : SessionEnd.ClosedByUser, GatewayInstance = "gw-test",
        };
        db.Sessions.Add(session);
        return session;
    }

    private static void Samples(GatewayDbContext db, ConsoleSession session, DateTimeOffset from, params double[] milliseconds)
    {
        for (var i = 0; i < milliseconds.Length; i++)
        {
            db.RoundTripSamples.Add(new RoundTripSample
            {
                Id = Guid.NewGuid(), TenantId = session.TenantId, SessionId = session.Id, SentAt = from + TimeSpan.FromSeconds(10 * i), Milliseconds = milliseconds[i],
            });
        }
    }

    private static void Refusal(GatewayDbContext db, Guid tenant, Guid pc, DateTimeOffset at) => db.ConnectionRefusals.Add(new ConnectionRefusal
    {
        Id = Guid.NewGuid(), TenantId = tenant, CloudPcId = pc, UserId = Guid.NewGuid(), UserName = "ada@example.test", At = at, Reason = "cloud-pc-not-running",
    });

    private static DateTimeOffset At(int day, int hour) => Start + TimeSpan.FromDays(day) + TimeSpan.FromHours(hour);

    private static async Task AddAsync(IServiceProvider services, Action<GatewayDbContext> add)
    {
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<GatewayDbContext>();
        add(db);
        await db.SaveChangesAsync();
    }

    /// <summary>A new gateway store of the provider, migrated as the service migrates it.</summary>
    private async Task<ServiceProvider> StoreAsync(DatabaseProvider provider, TimeProvider clock)
    {
        const string schema = GatewayDbContext.SchemaName;
        Func<GatewayDbContext> create;
        if (provider == DatabaseProvider.Sqlite)
        {
            var settings = DatabaseSettings.Parse(DatabaseSettings.SqlitePrefix + Path.Combine(sqliteFolder.Path, Guid.NewGuid().ToString("N")));
            Directory.CreateDirectory(settings.Target);
            var options = new DbContextOptionsBuilder<SqliteGatewayDbContext>().UseSqlite(settings.ConnectionStringFor(schema)).Options;
            create = () => new SqliteGatewayDbContext(options, clock);
        }
        else
        {
            var connection = DatabaseSettings.Parse(await postgres.CreateDatabaseAsync()).ConnectionStringFor(schema);
            var options = new DbContextOptionsBuilder<PostgresGatewayDbContext>()
                .UseNpgsql(connection, npgsql => npgsql.MigrationsHistoryTable("__ef_migrations_history", schema)).Options;
            create = () => new PostgresGatewayDbContext(options, clock);
        }

        var services = new ServiceCollection().AddSingleton(clock).AddScoped(_ => create()).BuildServiceProvider();
        await using var scope = services.CreateAsyncScope();
        var store = scope.ServiceProvider.GetRequiredService<GatewayDbContext>();
        await store.Database.MigrateAsync();
        Assert.False(store.Database.HasPendingModelChanges(), "the gateway's model differs from its last migration: run scripts/add-migration.sh");
        return services;
    }
}
