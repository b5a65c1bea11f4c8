using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Stratus.Platform.Auth;
using Stratus.Platform.Hosting;
using Stratus.Platform.Http;
using Stratus.Platform.Messaging;

namespace Stratus.Platform.Tests.Support;

/// <summary>
/// The platform (store, auth, the Idempotency-Key middleware) on Kestrel at a free 127.0.0.1 port, with write
/// endpoints that count how often they run.
/// </summary>
public sealed class KeyedApiHost : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, int> executions = new(StringComparer.Ordinal);

    private KeyedApiHost(WebApplication app)
    {
        App = app;
    }

    public WebApplication App { get; }

    /// <summary>What /api/v1/outage does during its first request before it fails as a lost store does (the test takes the store away).</summary>
    public Func<Task> Outage { get; set; } = () => Task.CompletedTask;

    /// <summary>Holds /api/v1/slow until set.</summary>
    public TaskCompletionSource SlowGate { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Uri BaseAddress => new(App.Urls.First());

    public int Executions(string endpoint) => executions.GetValueOrDefault(endpoint);

    internal static async Task<KeyedApiHost> StartAsync(TestDatabase database, ITestOutputHelper output, TimeProvider? clock = null)
    {
        ArgumentNullException.ThrowIfNull(database);
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = [], EnvironmentName = "Testing" });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        TestSigningKeys.AddTo(builder.Services);
        builder.AddStratusPlatform(new StratusHostSettings(database.Settings, database.DataFolder, "test"));
        if (clock is not null)
        {
            builder.Services.Replace(ServiceDescriptor.Singleton(clock));
        }

        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(new TestOutputLoggerProvider(output, "api"));
        var app = builder.Build();
        app.UseStratusPlatform();
        TestSigningKeys.MapOn(app);
        var host = new KeyedApiHost(app);
        host.MapEndpoints();
        try
        {
            await app.RunStartupTasksAsync(CancellationToken.None);
            await app.StartAsync();
            return host;
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
    }

    /// <summary>A client whose token names the account and tenant (none: the platform operator).</summary>
    public HttpClient Client(Guid account, Guid? tenant)
    {
        var roles = tenant is null ? new[] { StratusRoles.PlatformOperator } : [StratusRoles.TenantAdministrator];
        var token = App.Services.GetRequiredService<TokenIssuer>().Issue(new AccountIdentity(account, $"user-{account:N}", tenant, roles));
        var client = Anonymous();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    public HttpClient Anonymous() => new() { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(60) };

    public async Task<T> PlatformAsync<T>(Func<PlatformDbContext, Task<T>> query)
    {
        ArgumentNullException.ThrowIfNull(query);
        await using var scope = App.Services.CreateAsyncScope();
        return await query(scope.ServiceProvider.GetRequiredService<PlatformDbContext>());
    }

    public async ValueTask DisposeAsync()
    {
        SlowGate.TrySetResult();
        await App.StopAsync();
        await App.DisposeAsync();
    }

    private int Count(string endpoint) => executions.AddOrUpdate(endpoint, 1, (_, n) => n + 1);

    private void MapEndpoints()
    {
        var api = App.MapGroup("/api/v1").RequireAuthorization();

        // A create: 201 with a Location and a body that says whose request it was.
        api.MapPost("/things", (ThingRequest? request, HttpContext http) =>
        {
            var run = Count("things");
            if (string.IsNullOrEmpty(request?.Name))
            {
                return Results.ValidationProblem(new Dictionary<string, string[]> { ["name"] = ["'name' is required."] });
            }

            return Results.Created($"/api/v1/things/{run}", new ThingBody(run, request.Name, http.User.TenantId(), http.User.AccountId()));
        });
        api.MapDelete("/things/{id:int}", (int id) =>
        {
            Count("delete");
            return Results.NoContent();
        });
        api.MapPost("/slow", async () =>
        {
            var run = Count("slow");
            await SlowGate.Task;
            return Results.Created($"/api/v1/slow/{run}", new { run });
        });

        // Refuses its first request, as a write refused for the state it found would.
        api.MapPost("/refusedFirst", () => Count("refusedFirst") == 1
            ? Problems.Conflict("not-yet", "Refused the first time.")
            : Results.Ok(new { accepted = true }));
        api.MapPost("/outage", async () =>
        {
            if (Count("outage") == 1)
            {
                await Outage();
                throw new TimeoutException("The store did not answer (the test took it away).");
            }

            return Results.Ok(new { accepted = true });
        });
        // Loses its first save to a concurrent change of the same row, as an EF Core concurrency token makes it.
        api.MapPost("/conflictsFirst", () => Count("conflictsFirst") == 1
            ? throw new Microsoft.EntityFrameworkCore.DbUpdateConcurrencyException("The row changed since it was read (the test says so).")
            : Results.Ok(new { accepted = true }));
        api.MapPost("/failsFirst", () => Count("failsFirst") == 1
            ? throw new InvalidOperationException("Failed the first time.")
            : Results.Ok(new { accepted = true }));

        // An upload, which counts its bytes itself and lifts the server's limit as Images' does.
        api.MapPut("/uploads", async (HttpRequest request, CancellationToken cancellationToken) =>
        {
            Count("uploads");
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var buffer = new byte[64 * 1024];
            long length = 0;
            int read;
            while ((read = await request.Body.ReadAsync(buffer, cancellationToken)) > 0)
            {
                hash.AppendData(buffer, 0, read);
                length += read;
            }

            return Results.Ok(new UploadBody(length, Convert.ToHexStringLower(hash.GetHashAndReset())));
        }).WithMetadata(new DisableRequestSizeLimitAttribute());

        // A small limit of its own, as the JSON endpoints of Identity have.
        api.MapPost("/small", (ThingRequest? request) => Results.Ok(new { run = Count("small") }))
            .WithMetadata(new RequestSizeLimitAttribute(1024));

        App.MapPost("/api/v1/open", () => Results.Ok(new { run = Count("open") })).AllowAnonymous();
    }
}

public sealed record ThingRequest(string? Name);

public sealed record ThingBody(int Id, string Name, Guid? TenantId, Guid AccountId);

public sealed record UploadBody(long Length, string Sha256);
