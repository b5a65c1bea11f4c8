using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Stratus.Compute.Agents;
using Stratus.Compute.Hosts;
using Stratus.Compute.Networks;
using Stratus.Compute.Persistence;
using Stratus.Compute.Vms;
using Stratus.Platform.Messaging;
using Stratus.Testing;

namespace Stratus.Compute.Tests.Networks;

/// <summary>
/// A migrated compute store on a real SQLite file or a real PostgreSQL database, for the network tests that run compute's
/// own handlers and report handling against it, with the messages network would send.
/// </summary>
public sealed class NetworkStore : IDisposable
{
    public const string RegionA = "test-1";
    public const string RegionB = "test-2";

    private readonly TempFolder folder = new();
    private readonly Func<NetworkStore, IInterceptor[], ComputeDbContext> open;

    private NetworkStore(Func<NetworkStore, IInterceptor[], ComputeDbContext> open) => this.open = open;

    public TimeProvider Clock { get; init; } = TimeProvider.System;

    public static async Task<NetworkStore> CreateAsync(string provider, PostgresServer postgres, TimeProvider? clock = null)
    {
        ArgumentNullException.ThrowIfNull(postgres);
        NetworkStore store;
        if (provider == "postgres")
        {
            var connectionString = postgres.ConnectionString(await postgres.CreateDatabaseAsync());
            store = new NetworkStore((s, interceptors) => new PostgresComputeDbContext(new DbContextOptionsBuilder<PostgresComputeDbContext>()
                .UseNpgsql(connectionString, npgsql => npgsql.MigrationsHistoryTable("__ef_migrations_history", ComputeDbContext.SchemaName)).AddInterceptors(interceptors).Options, s.Clock))
            { Clock = clock ?? TimeProvider.System };
        }
        else
        {
            store = new NetworkStore((s, interceptors) => new SqliteComputeDbContext(new DbContextOptionsBuilder<SqliteComputeDbContext>()
                .UseSqlite($"Data Source={Path.Combine(s.folder.Path, "compute.db")};Default Timeout=60").AddInterceptors(interceptors).Options, s.Clock))
            { Clock = clock ?? TimeProvider.System };
        }

        await using var db = store.Open();
        await db.Database.MigrateAsync();
        return store;
    }

    public ComputeDbContext Open(params IInterceptor[] interceptors) => open(this, interceptors);

    public void Dispose() => folder.Dispose();

    public async Task<Guid> AddHostAsync(string region, string name)
    {
        await using var db = Open();
        var host = new Host
        {
            Id = Guid.NewGuid(), Name = name, Region = region, Zone = region + "a", State = HostState.Ready, LastHeartbeatAt = Clock.GetUtcNow(),
            VCpuCapacity = 64, MemoryMiBCapacity = 65536, DiskGiBCapacity = 2000, AgentTokenHash = Guid.NewGuid().ToString("N"), Driver = "simulated", Accelerator = "none",
        };
        db.Hosts.Add(host);
        await db.SaveChangesAsync();
        return host.Id;
    }

    public static NetworkConnectionUpserted Connection(Guid id, string region, long version = 1, string subnet = "10.20.0.0/24", string gateway = "10.20.0.1", int mtu = 1500) =>
        new(Guid.NewGuid(), id, region, version, subnet, gateway, mtu, "vlan", "eth1", 120, null, null, null, ["10.20.0.53"], "corp.example",
            ["intranet.corp.example"], ["intranet.corp.example:443"], TimeProvider.System.GetUtcNow());

    /// <summary>Hands a message to compute's handler as the queue worker does: a new scope, retried while it throws (as the queue retries it).</summary>
    public async Task HandleAsync<TMessage>(TMessage message, Func<ComputeDbContext, IMessageHandler<TMessage>> handler, int tries = 1, params IInterceptor[] interceptors)
    {
        for (var tried = 1; ; tried++)
        {
            await using var db = Open(interceptors);
            try
            {
                await handler(db).HandleAsync(message, new MessageContext(Guid.NewGuid(), ComputeModule.Queue, tried), CancellationToken.None);
                return;
            }
            catch (Exception) when (tried < tries)
            {
            }
        }
    }

    public Task UpsertAsync(NetworkConnectionUpserted message) => HandleAsync(message, db => new NetworkConnectionUpsertedHandler(db, Clock));

    public async Task<DesiredState> DesiredAsync(Guid hostId)
    {
        await using var db = Open();
        return await AgentApi.ReadDesiredStateAsync(db, hostId, Clock.GetUtcNow(), CancellationToken.None);
    }

    public async Task<bool> ReportAsync(Guid hostId, AgentReport report)
    {
        await using var db = Open();
        return await AgentApi.ApplyReportAsync(db, hostId, report, Clock.GetUtcNow(), CancellationToken.None);
    }

    /// <summary>The events of a type compute published (its outbox), oldest first.</summary>
    public async Task<List<T>> PublishedAsync<T>()
    {
        await using var db = Open();
        var type = MessageNames.Of<T>();
        var bodies = await db.OutboxMessages.AsNoTracking().Where(m => m.MessageType == type).OrderBy(m => m.CreatedAt).Select(m => m.Body).ToListAsync();
        return bodies.Select(b => JsonSerializer.Deserialize<T>(b, MessageJson.Options)!).ToList();
    }

    public async Task<Vm> VmAsync(Guid id)
    {
        await using var db = Open();
        return await db.Vms.AsNoTracking().SingleAsync(v => v.Id == id);
    }

    public async Task<List<NetworkAddress>> AddressesAsync(Guid connectionId)
    {
        await using var db = Open();
        return await db.NetworkAddresses.AsNoTracking().Where(a => a.ConnectionId == connectionId).ToListAsync();
    }
}

/// <summary>Signals when a command that reads a table has run: a positive sign that a handler looked, with no sleep.</summary>
public sealed class TableRead(string table) : DbCommandInterceptor
{
    private readonly TaskCompletionSource done = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task Happened => done.Task;

    public override ValueTask<System.Data.Common.DbDataReader> ReaderExecutedAsync(System.Data.Common.DbCommand command, CommandExecutedEventData eventData,
        System.Data.Common.DbDataReader result, CancellationToken cancellationToken = default)
    {
        if (command.CommandText.Contains(table, StringComparison.Ordinal))
        {
            done.TrySetResult();
        }

        return base.ReaderExecutedAsync(command, eventData, result, cancellationToken);
    }
}
