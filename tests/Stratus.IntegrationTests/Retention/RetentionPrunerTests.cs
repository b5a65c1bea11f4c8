using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Stratus.Gateway.Connect;
using Stratus.Gateway.Persistence;
using Stratus.Identity.Auth;
using Stratus.Identity.Persistence;
using Stratus.Platform.Auth;
using Stratus.Platform.Persistence;
using Stratus.Testing;

namespace Stratus.IntegrationTests.Retention;

/// <summary>
/// Issue 16 item 10 (and issue 17 for revocations): used console tickets, sign-in attempts and revocations are forgotten after the retention their READMEs
/// state, so that their tables stay bounded however long a deployment runs. Each pruner runs on a real store
/// (SQLite, PostgreSQL) migrated as a service migrates it, fed for weeks of simulated time.
/// </summary>
public sealed class RetentionPrunerTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
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
    public async Task SignInAttempts_AreForgottenAfter30Days_SoTheTableStaysBounded(DatabaseProvider provider)
    {
        const int perDay = 150;
        var clock = new FakeTimeProvider(Start);
        await using var services = await StoreAsync<IdentityDbContext>(provider, IdentityDbContext.SchemaName, clock,
            o => new SqliteIdentityDbContext(Options<SqliteIdentityDbContext>(o), clock), o => new PostgresIdentityDbContext(Options<PostgresIdentityDbContext>(o), clock));
        var pruner = new SignInAttemptPruner(services.GetRequiredService<IServiceScopeFactory>(), clock, NullLogger<SignInAttemptPruner>.Instance);

        var inserted = new List<DateTimeOffset>();
        for (var day = 0; day < 45; day++)
        {
            await using (var scope = services.CreateAsyncScope())
            {
                var db = scope.ServiceProvider.GetRequiredService<IdentityDbContext>();
                for (var i = 0; i < perDay; i++)
                {
                    var at = clock.GetUtcNow() + TimeSpan.FromMinutes(i * 9); // spread over the day
                    inserted.Add(at);
                    db.SignInAttempts.Add(new SignInAttempt
                    {
                        Id = Guid.NewGuid(), NormalizedUserName = $"USER{i % 7}@EXAMPLE.TEST", RemoteAddress = "192.0.2.1",
                        Outcome = i % 3 == 0 ? SignInOutcome.Succeeded : SignInOutcome.WrongCredentials, At = at,
                    });
                }

                await db.SaveChangesAsync();
            }

            clock.Advance(TimeSpan.FromDays(1));
            await pruner.PruneAsync(CancellationToken.None);

            var cutoff = clock.GetUtcNow() - SignInAttemptPruner.KeepFor;
            var kept = await CountAsync<IdentityDbContext>(services, db => db.SignInAttempts.CountAsync());
            Assert.Equal(inserted.Count(at => at >= cutoff), kept); // every newer attempt kept, every older one gone
            Assert.True(kept <= 31 * perDay, $"day {day}: {kept} sign-in attempts kept, more than 31 days' worth");
        }

        Assert.Equal(45 * perDay, inserted.Count);
        Assert.InRange(await CountAsync<IdentityDbContext>(services, db => db.SignInAttempts.CountAsync()), 29 * perDay, 31 * perDay);
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task Revocations_AreForgottenOnceNoCredentialTheyEndCanStillBeValid(DatabaseProvider provider)
    {
        const int perDay = 40;
        var clock = new FakeTimeProvider(Start);
        await using var services = await StoreAsync<IdentityDbContext>(provider, IdentityDbContext.SchemaName, clock,
            o => new SqliteIdentityDbContext(Options<SqliteIdentityDbContext>(o), clock), o => new PostgresIdentityDbContext(Options<PostgresIdentityDbContext>(o), clock));
        var configuration = new ConfigurationBuilder().Build(); // the default poll interval
        var pruner = new RevocationPruner(services.GetRequiredService<IServiceScopeFactory>(), clock, configuration, NullLogger<RevocationPruner>.Instance);
        var keepFor = RevocationPruner.KeepFor(RevocationPoller.DefaultInterval);
        Assert.Equal(TimeSpan.FromDays(7) + TimeSpan.FromSeconds(5), keepFor); // a week's sign-in, then one poll

        var revoked = new List<DateTimeOffset>();
        for (var day = 0; day < 12; day++)
        {
            await using (var scope = services.CreateAsyncScope())
            {
                var db = scope.ServiceProvider.GetRequiredService<IdentityDbContext>();
                for (var i = 0; i < perDay; i++)
                {
                    var notBefore = clock.GetUtcNow() + TimeSpan.FromMinutes(i * 36); // spread over the day
                    revoked.Add(notBefore);
                    db.Revocations.Add(new RevocationRecord
                    {
                        Subject = i % 5 == 0 ? RevokedSubject.Tenant : RevokedSubject.Account, SubjectId = Guid.NewGuid(), NotBefore = notBefore, RecordedAt = notBefore,
                    });
                }

                await db.SaveChangesAsync();
            }

            clock.Advance(TimeSpan.FromDays(1));
            await pruner.PruneAsync(CancellationToken.None);

            var cutoff = clock.GetUtcNow() - keepFor;
            var kept = await CountAsync<IdentityDbContext>(services, db => db.Revocations.CountAsync());
            Assert.Equal(revoked.Count(at => at >= cutoff), kept); // every newer revocation kept, every older one gone
        }

        // The row right at the edge: a credential issued just before it may live until now, so it stays; a moment later it goes.
        Guid edge;
        await using (var scope = services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<IdentityDbContext>();
            var row = new RevocationRecord { Subject = RevokedSubject.Account, SubjectId = Guid.NewGuid(), NotBefore = clock.GetUtcNow() - keepFor + TimeSpan.FromSeconds(1), RecordedAt = clock.GetUtcNow() };
            edge = row.SubjectId;
            db.Revocations.Add(row);
            await db.SaveChangesAsync();
        }

        await pruner.PruneAsync(CancellationToken.None);
        Assert.Equal(1, await CountAsync<IdentityDbContext>(services, db => db.Revocations.CountAsync(r => r.SubjectId == edge)));
        clock.Advance(TimeSpan.FromSeconds(2));
        await pruner.PruneAsync(CancellationToken.None);
        Assert.Equal(0, await CountAsync<IdentityDbContext>(services, db => db.Revocations.CountAsync(r => r.SubjectId == edge)));
        Assert.InRange(await CountAsync<IdentityDbContext>(services, db => db.Revocations.CountAsync()), 6 * perDay, 8 * perDay);
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task ConsoleTickets_AreForgottenADayAfterTheyExpired_SoTheTableStaysBounded(DatabaseProvider provider)
    {
        const int perHour = 60;
        var clock = new FakeTimeProvider(Start);
        await using var services = await StoreAsync<GatewayDbContext>(provider, GatewayDbContext.SchemaName, clock,
            o => new SqliteGatewayDbContext(Options<SqliteGatewayDbContext>(o), clock), o => new PostgresGatewayDbContext(Options<PostgresGatewayDbContext>(o), clock));
        var pruner = new ConnectTicketPruner(services.GetRequiredService<IServiceScopeFactory>(), clock, NullLogger<ConnectTicketPruner>.Instance);

        var expiries = new List<DateTimeOffset>();
        for (var hour = 0; hour < 72; hour++)
        {
            await using (var scope = services.CreateAsyncScope())
            {
                var db = scope.ServiceProvider.GetRequiredService<GatewayDbContext>();
                for (var i = 0; i < perHour; i++)
                {
                    var created = clock.GetUtcNow() + TimeSpan.FromMinutes(i);
                    expiries.Add(created + TimeSpan.FromSeconds(60));
                    db.ConnectTokens.Add(new ConnectToken
                    {
                        Id = Guid.NewGuid(), TokenHash = Guid.NewGuid().ToString("N"), TenantId = Guid.NewGuid(), UserId = Guid.NewGuid(), UserName = "user@example.test",
                        CloudPcId = Guid.NewGuid(), VmId = Guid.NewGuid(), SessionId = Guid.NewGuid(), CreatedAt = created, ExpiresAt = created + TimeSpan.FromSeconds(60),
                        UsedAt = i % 2 == 0 ? created + TimeSpan.FromSeconds(1) : null, // used ones and ones left to expire
                    });
                }

                await db.SaveChangesAsync();
            }

            clock.Advance(TimeSpan.FromHours(1));
            await pruner.PruneAsync(CancellationToken.None);

            var cutoff = clock.GetUtcNow() - ConnectTicketPruner.KeepFor;
            var kept = await CountAsync<GatewayDbContext>(services, db => db.ConnectTokens.CountAsync());
            Assert.Equal(expiries.Count(at => at >= cutoff), kept);
            Assert.True(kept <= 25 * perHour, $"hour {hour}: {kept} tickets kept, more than 25 hours' worth");
        }

        Assert.InRange(await CountAsync<GatewayDbContext>(services, db => db.ConnectTokens.CountAsync()), 23 * perHour, 25 * perHour);
    }

    /// <summary>A service provider whose scopes give the store's context, on a new migrated database of the provider.</summary>
    private async Task<ServiceProvider> StoreAsync<TContext>(DatabaseProvider provider, string schema, TimeProvider clock,
        Func<StoreAddress, TContext> sqlite, Func<StoreAddress, TContext> postgresContext)
        where TContext : DbContext
    {
        StoreAddress address;
        if (provider == DatabaseProvider.Sqlite)
        {
            var settings = DatabaseSettings.Parse(DatabaseSettings.SqlitePrefix + Path.Combine(sqliteFolder.Path, Guid.NewGuid().ToString("N")));
            Directory.CreateDirectory(settings.Target);
            address = new StoreAddress(provider, settings.ConnectionStringFor(schema), schema);
        }
        else
        {
            address = new StoreAddress(provider, DatabaseSettings.Parse(await postgres.CreateDatabaseAsync()).ConnectionStringFor(schema), schema);
        }

        var create = provider == DatabaseProvider.Sqlite ? sqlite : postgresContext;
        var services = new ServiceCollection().AddSingleton(clock).AddScoped(_ => create(address)).BuildServiceProvider();
        await using var scope = services.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<TContext>().Database.MigrateAsync();
        return services;
    }

    /// <summary>Options for a store as the services configure them (PostgreSQL keeps each store's migration history in its schema).</summary>
    private static DbContextOptions<T> Options<T>(StoreAddress store)
        where T : DbContext
    {
        var builder = new DbContextOptionsBuilder<T>();
        return store.Provider == DatabaseProvider.Postgres
            ? builder.UseNpgsql(store.Connection, npgsql => npgsql.MigrationsHistoryTable("__ef_migrations_history", store.Schema)).Options
            : builder.UseSqlite(store.Connection).Options;
    }

    private sealed record StoreAddress(DatabaseProvider Provider, string Connection, string Schema);

    private static async Task<int> CountAsync<TContext>(IServiceProvider services, Func<TContext, Task<int>> count)
        where TContext : DbContext
    {
        await using var scope = services.CreateAsyncScope();
        return await count(scope.ServiceProvider.GetRequiredService<TContext>());
    }
}
