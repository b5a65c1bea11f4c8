using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Stratus.Platform.Jobs;
using Stratus.Platform.Messaging;
using Stratus.Platform.Metrics;

namespace Stratus.Platform.Persistence;

public static class ServiceDatabaseExtensions
{
    /// <summary>
    /// Registers a store: its DbContext on the configured provider (each provider has its own migrations
    /// in a context subclass), its migration at start, and its readiness check.
    /// </summary>
    public static IHostApplicationBuilder AddStore<TContext, TSqlite, TPostgres>(this IHostApplicationBuilder builder, string schema)
        where TContext : StratusDbContext
        where TSqlite : TContext
        where TPostgres : TContext
    {
        ArgumentNullException.ThrowIfNull(builder);
        var settings = builder.GetDatabaseSettings();
        var connectionString = settings.ConnectionStringFor(schema);
        builder.Services.TryAddSingleton<SavedChangesMetricsInterceptor>();
        switch (settings.Provider)
        {
            case DatabaseProvider.Sqlite:
                builder.Services.AddDbContext<TContext, TSqlite>((provider, options) => options
                    .UseSqlite(connectionString)
                    .AddInterceptors(provider.GetRequiredService<OutboxSignalInterceptor>(), SqliteBusyTimeout.Instance,
                        provider.GetRequiredService<SavedChangesMetricsInterceptor>()));
                break;
            case DatabaseProvider.Postgres:
                var readConnectionString = StandbyReads.ConnectionStringFor(connectionString);
                builder.Services.AddHttpContextAccessor();
                builder.Services.AddDbContext<TContext, TPostgres>((provider, options) =>
                {
                    var forRead = StandbyReads.ForReadRequest(provider);
                    options.UseNpgsql(forRead ? readConnectionString : connectionString, npgsql =>
                    {
                        npgsql.MigrationsHistoryTable("__ef_migrations_history", schema);
                        if (forRead)
                        {
                            // A read is safe to run again, and the first use of a pooled connection to a primary that is gone fails.
                            npgsql.EnableRetryOnFailure(StandbyReads.MaxRetries, StandbyReads.MaxRetryDelay, errorCodesToAdd: null);
                        }
                    });
                    options.AddInterceptors(provider.GetRequiredService<OutboxSignalInterceptor>(), provider.GetRequiredService<SavedChangesMetricsInterceptor>());
                });
                break;
        }

        builder.Services.AddSingleton<IStartupTask, MigrateDatabase<TContext>>();
        builder.Services.AddHealthChecks().Add(new HealthCheckRegistration(
            $"store:{schema}",
            provider => new StoreHealthCheck<TContext>(provider.GetRequiredService<IServiceScopeFactory>()),
            HealthStatus.Unhealthy,
            [HealthTags.Ready]));
        return builder;
    }

    /// <summary>A service's store, plus the relay that publishes its outbox.</summary>
    public static IHostApplicationBuilder AddServiceStore<TContext, TSqlite, TPostgres>(this IHostApplicationBuilder builder, string schema)
        where TContext : ServiceDbContext
        where TSqlite : TContext
        where TPostgres : TContext
    {
        builder.AddStore<TContext, TSqlite, TPostgres>(schema);
        builder.Services.AddHostedService<OutboxRelay<TContext>>();
        builder.Services.AddOutboxMetrics<TContext>(schema);
        builder.Services.AddPeriodicJob<ServiceStoreRetention<TContext>>();
        return builder;
    }

    public static DatabaseSettings GetDatabaseSettings(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.Properties.TryGetValue(typeof(DatabaseSettings), out var value) && value is DatabaseSettings settings
            ? settings
            : throw new InvalidOperationException("Call AddStratusPlatform before adding a store.");
    }
}

public static class HealthTags
{
    /// <summary>Checks that /readyz runs; /healthz runs none (alive means the process answers).</summary>
    public const string Ready = "ready";
}

internal sealed class StoreHealthCheck<TContext>(IServiceScopeFactory scopes) : IHealthCheck
    where TContext : StratusDbContext
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TContext>();
        try
        {
            return await db.Database.CanConnectAsync(cancellationToken)
                ? HealthCheckResult.Healthy()
                : HealthCheckResult.Unhealthy($"{db.Schema}: the database does not answer");
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return HealthCheckResult.Unhealthy($"{db.Schema}: {e.Message}");
        }
    }
}
