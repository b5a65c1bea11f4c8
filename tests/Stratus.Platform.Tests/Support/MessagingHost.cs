using System.Net.Http.Headers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Stratus.Platform.Auth;
using Stratus.Platform.Hosting;
using Stratus.Platform.Messaging;
using Stratus.Platform.Persistence;

namespace Stratus.Platform.Tests.Support;

/// <summary>
/// A Stratus process in miniature: the platform (store, queues, worker, dead-letter API) and the test
/// service's store with its outbox relay, registered the way real services register theirs. Kestrel
/// listens on a free 127.0.0.1 port.
/// </summary>
public sealed class MessagingHost : IAsyncDisposable
{
    public const string QueueA = "alpha";
    public const string QueueB = "beta";

    private bool started;

    private readonly TestOutputLoggerProvider log;

    private MessagingHost(WebApplication app, TestOutputLoggerProvider log)
    {
        App = app;
        this.log = log;
        Deliveries = app.Services.GetRequiredService<DeliveryLog>();
        Failures = app.Services.GetRequiredService<FailureSwitch>();
    }

    public WebApplication App { get; }

    /// <summary>The host's warnings and errors so far.</summary>
    public IReadOnlyList<string> Logs => log.Lines;

    public DeliveryLog Deliveries { get; }

    public FailureSwitch Failures { get; }

    public HttpClient? Http { get; private set; }

    /// <summary>
    /// Builds a host that consumes ItemCreated on queues alpha and beta, FlakyWork, SlowWork and FailAfterSave on alpha. Messaging
    /// loops poll every 50 ms and retry after 200 ms unless <paramref name="messaging"/> says otherwise.
    /// </summary>
    internal static MessagingHost Build(TestDatabase database, ITestOutputHelper output, string name = "host",
        Action<MessagingOptions>? messaging = null, TimeProvider? clock = null, Action<IServiceCollection>? services = null)
    {
        ArgumentNullException.ThrowIfNull(database);
        return Build(database.Settings, database.DataFolder, output, name, messaging, clock, services);
    }

    /// <summary>A host on a database that another process (or test) created.</summary>
    internal static MessagingHost Build(DatabaseSettings database, string dataFolder, ITestOutputHelper output, string name = "host",
        Action<MessagingOptions>? messaging = null, TimeProvider? clock = null, Action<IServiceCollection>? services = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = [], EnvironmentName = "Testing" });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        TestSigningKeys.AddTo(builder.Services);
        builder.AddStratusPlatform(new StratusHostSettings(database, dataFolder, "test"));
        builder.Logging.ClearProviders();
        var log = new TestOutputLoggerProvider(output, name);
        builder.Logging.AddProvider(log);

        builder.Services.Configure<MessagingOptions>(options =>
        {
            options.PollInterval = TimeSpan.FromMilliseconds(50);
            options.FirstRetryDelay = TimeSpan.FromMilliseconds(200);
            options.MaxRetryDelay = TimeSpan.FromSeconds(2);
            options.LeaseDuration = TimeSpan.FromSeconds(30);
            messaging?.Invoke(options);
        });
        if (clock is not null)
        {
            builder.Services.Replace(ServiceDescriptor.Singleton(clock));
        }

        builder.AddServiceStore<TestDbContext, SqliteTestDbContext, PostgresTestDbContext>(TestDbContext.SchemaName);
        builder.Services.AddSingleton<DeliveryLog>();
        builder.Services.AddSingleton<FailureSwitch>();
        builder.Services.AddMessageHandler<ItemCreated, ItemCreatedHandler>(QueueA);
        builder.Services.AddMessageHandler<ItemCreated, ItemCreatedHandler>(QueueB);
        builder.Services.AddMessageHandler<FlakyWork, FlakyWorkHandler>(QueueA);
        builder.Services.AddMessageHandler<SlowWork, SlowWorkHandler, TestDbContext>(QueueA);
        builder.Services.AddMessageHandler<FailAfterSave, FailAfterSaveHandler>(QueueA);
        services?.Invoke(builder.Services);

        var app = builder.Build();
        app.UseStratusPlatform();
        TestSigningKeys.MapOn(app);
        return new MessagingHost(app, log);
    }

    /// <summary>Builds, runs the start-up tasks, creates the test service's tables and starts every loop.</summary>
    internal static async Task<MessagingHost> StartAsync(TestDatabase database, ITestOutputHelper output, string name = "host",
        Action<MessagingOptions>? messaging = null, TimeProvider? clock = null, bool createTables = true, Action<IServiceCollection>? services = null)
    {
        var host = Build(database, output, name, messaging, clock, services);
        try
        {
            await host.RunStartupTasksAsync();
            if (createTables)
            {
                await host.CreateServiceTablesAsync();
            }

            await host.StartAsync();
            return host;
        }
        catch
        {
            await host.DisposeAsync();
            throw;
        }
    }

    public Task RunStartupTasksAsync() => App.RunStartupTasksAsync(CancellationToken.None);

    /// <summary>
    /// The test service has no migrations, so its tables are made from the model. Not EnsureCreated: on
    /// PostgreSQL it does nothing once any schema of the database has tables.
    /// </summary>
    public async Task CreateServiceTablesAsync()
    {
        await using var scope = App.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TestDbContext>();
        await db.GetService<IRelationalDatabaseCreator>().CreateTablesAsync();
    }

    public async Task StartAsync()
    {
        await App.StartAsync();
        started = true;
        Http = new HttpClient { BaseAddress = new Uri(App.Urls.First()), Timeout = TimeSpan.FromSeconds(20) };
    }

    /// <summary>A client signed in as a platform operator, with a token of this host's shared signing key.</summary>
    public HttpClient OperatorClient()
    {
        var token = App.Services.GetRequiredService<TokenIssuer>()
            .Issue(new AccountIdentity(Guid.NewGuid(), "operator", null, [StratusRoles.PlatformOperator]));
        var client = new HttpClient { BaseAddress = Http!.BaseAddress, Timeout = TimeSpan.FromSeconds(20) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    internal OutboxRelay<TestDbContext> Relay =>
        App.Services.GetServices<IHostedService>().OfType<OutboxRelay<TestDbContext>>().Single();

    internal QueueWorker Worker =>
        App.Services.GetServices<IHostedService>().OfType<QueueWorker>().Single();

    public async Task<T> PlatformAsync<T>(Func<PlatformDbContext, Task<T>> query)
    {
        ArgumentNullException.ThrowIfNull(query);
        await using var scope = App.Services.CreateAsyncScope();
        return await query(scope.ServiceProvider.GetRequiredService<PlatformDbContext>());
    }

    public async Task<T> ServiceAsync<T>(Func<TestDbContext, Task<T>> query)
    {
        ArgumentNullException.ThrowIfNull(query);
        await using var scope = App.Services.CreateAsyncScope();
        return await query(scope.ServiceProvider.GetRequiredService<TestDbContext>());
    }

    public Task ServiceAsync(Func<TestDbContext, Task> action) =>
        ServiceAsync(async db =>
        {
            await action(db);
            return true;
        });

    /// <summary>Creates an item and publishes ItemCreated in the same SaveChanges, as a service endpoint would.</summary>
    public async Task<Guid> CreateItemAsync(string name, DateTimeOffset? deliverAt = null)
    {
        var id = Guid.NewGuid();
        await ServiceAsync(db =>
        {
            db.Items.Add(new Item { Id = id, Name = name });
            db.Publish(new ItemCreated(id, name), deliverAt);
            return db.SaveChangesAsync();
        });
        return id;
    }

    public Task<List<QueueMessage>> QueueRowsAsync() =>
        PlatformAsync(db => db.QueueMessages.AsNoTracking().ToListAsync());

    public async ValueTask DisposeAsync()
    {
        Http?.Dispose();
        if (started)
        {
            await App.StopAsync();
        }

        await App.DisposeAsync();
    }
}
