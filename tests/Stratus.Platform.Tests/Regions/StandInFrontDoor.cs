using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Stratus.Platform.Auth;
using Stratus.Platform.Regions;
using Stratus.Platform.Tests.Support;

namespace Stratus.Platform.Tests.Regions;

/// <summary>
/// A STAND-IN for the front door (the real one, `stratus run --targets frontdoor`, is built in parallel): a real Kestrel
/// server on a free 127.0.0.1 port that answers GET /frontdoor/v1/lease?region=X with the lease the test decides, to a
/// bearer token issued for the regions.lease scope. It checks the token's claims without its signature (the real front
/// door validates it with identity's keys).
/// </summary>
internal sealed class StandInFrontDoor : IAsyncDisposable
{
    private readonly WebApplication app;
    private readonly ConcurrentDictionary<long, int> served = new();
    private volatile Grant current = new("A", 1);
    private volatile bool answering = true;

    private StandInFrontDoor(WebApplication app) => this.app = app;

    private sealed record Grant(string WritableRegion, long Epoch);

    /// <summary>How long each lease it answers is valid. 6 s: renewed every 2 s, a renewal must be 4 s late (a loaded
    /// machine) before a writable phase of a test lapses by itself.</summary>
    public TimeSpan LeaseLength { get; init; } = TimeSpan.FromSeconds(6);

    public string Url => app.Urls.First();

    public static async Task<StandInFrontDoor> StartAsync(ITestOutputHelper output, TimeSpan? leaseLength = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = [], EnvironmentName = "Testing" });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(new TestOutputLoggerProvider(output, "frontdoor"));
        var app = builder.Build();
        var frontDoor = new StandInFrontDoor(app) { LeaseLength = leaseLength ?? TimeSpan.FromSeconds(6) };
        app.MapGet(RegionLeaseApi.Path, frontDoor.AnswerLease);
        await app.StartAsync();
        return frontDoor;
    }

    /// <summary>From now on, <paramref name="writableRegion"/> is writable for <paramref name="epoch"/>.</summary>
    public void MakeWritable(string writableRegion, long epoch) => current = new Grant(writableRegion, epoch);

    /// <summary>Answers 503 to every ask from now on (as if it could not be reached), until <see cref="Answer"/>.</summary>
    public void StopAnswering() => answering = false;

    public void Answer() => answering = true;

    /// <summary>How many leases of <paramref name="epoch"/> it answered.</summary>
    public int Served(long epoch) => served.GetValueOrDefault(epoch);

    private IResult AnswerLease(HttpContext context, string region)
    {
        if (!HasLeaseScope(context.Request.Headers.Authorization.ToString()))
        {
            return Results.Problem(statusCode: StatusCodes.Status401Unauthorized, detail: $"a bearer token with the scope {RegionLeaseApi.Scope} is needed");
        }

        if (!answering)
        {
            return Results.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, detail: "the stand-in front door is told not to answer");
        }

        var grant = current;
        served.AddOrUpdate(grant.Epoch, 1, (_, count) => count + 1);
        return Results.Ok(new RegionLease(region, region == grant.WritableRegion, grant.WritableRegion, grant.Epoch, TimeProvider.System.GetUtcNow() + LeaseLength));
    }

    private static bool HasLeaseScope(string authorization)
    {
        const string bearer = "Bearer ";
        if (!authorization.StartsWith(bearer, StringComparison.Ordinal) || authorization[bearer.Length..].Split('.') is not [_, var payload, _])
        {
            return false;
        }

        var padded = payload.Replace('-', '+').Replace('_', '/');
        padded += new string('=', (4 - (padded.Length % 4)) % 4);
        using var claims = JsonDocument.Parse(Encoding.UTF8.GetString(Convert.FromBase64String(padded)));
        return claims.RootElement.TryGetProperty(StratusClaims.ClientId, out _)
               && claims.RootElement.TryGetProperty(StratusClaims.Scope, out var scope)
               && scope.ToString().Split(' ').Contains(RegionLeaseApi.Scope, StringComparer.Ordinal);
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }
}

/// <summary>A region store that records what it was asked, and whether the instance said it was writable meanwhile.</summary>
internal sealed class RecordingRegionStore : IRegionStore
{
    private readonly ConcurrentQueue<StoreCall> calls = new();
    private volatile int role = (int)StoreRole.Standby;

    public RegionWritability? Writability { get; set; }

    public IReadOnlyList<StoreCall> Calls => [.. calls];

    public Task<StoreRole> RoleAsync(CancellationToken cancellationToken) => Task.FromResult((StoreRole)role);

    /// <summary>How many promotions fail (as a Patroni that does not answer) before one succeeds.</summary>
    public int FailingPromotions { get; set; }

    public Task PromoteAsync(long epoch, CancellationToken cancellationToken)
    {
        calls.Enqueue(new StoreCall("promote", epoch, Writability?.IsWritable));
        if (FailingPromotions > 0)
        {
            FailingPromotions--;
            throw new HttpRequestException("the stand-in store is told to fail this promotion");
        }

        role = (int)StoreRole.Primary;
        return Task.CompletedTask;
    }

    public Task DemoteAsync(long epoch, CancellationToken cancellationToken)
    {
        calls.Enqueue(new StoreCall("demote", epoch, Writability?.IsWritable));
        role = (int)StoreRole.Standby;
        return Task.CompletedTask;
    }
}

internal sealed record StoreCall(string Action, long Epoch, bool? WritableDuringCall);
