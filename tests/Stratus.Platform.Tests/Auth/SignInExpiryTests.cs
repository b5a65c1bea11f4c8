using System.Globalization;
using System.Net;
using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Stratus.Platform.Auth;
using Stratus.Platform.Hosting;
using Stratus.Platform.Persistence;
using Stratus.Platform.Tests.Support;
using Stratus.Testing;

namespace Stratus.Platform.Tests.Auth;

/// <summary>
/// A portal sign-in lasts at most a week however often its cookie slides, so that identity may forget a revocation
/// a week old (ADR 0011, RevocationPruner): a cookie past it, or one that does not say when it signed in, is refused,
/// at authentication on a real server.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class SignInExpiryTests(PostgresServer postgres, ITestOutputHelper output)
{
    private static readonly DateTimeOffset Now = new(2026, 12, 7, 8, 0, 0, TimeSpan.Zero);

    [Fact]
    public void ASignIn_LastsAWeek_AndNotASecondLonger()
    {
        Assert.Equal(TimeSpan.FromDays(7), CredentialRevocations.LongestSignIn);
        Assert.Equal(TimeSpan.FromDays(7), CredentialRevocations.LongestCredential); // longer than any bearer token's hour

        Assert.False(CredentialRevocations.SignInExpired(Cookie(Now - TimeSpan.FromHours(1)), Now));
        Assert.False(CredentialRevocations.SignInExpired(Cookie(Now - TimeSpan.FromDays(7)), Now));
        Assert.True(CredentialRevocations.SignInExpired(Cookie(Now - TimeSpan.FromDays(7) - TimeSpan.FromSeconds(1)), Now));
    }

    [Fact]
    public void ACookieThatDoesNotSayWhenItSignedIn_IsExpired()
    {
        var principal = new ClaimsPrincipal(new ClaimsIdentity([new Claim(StratusClaims.Subject, Guid.NewGuid().ToString())], "Cookies"));

        Assert.True(CredentialRevocations.SignInExpired(principal, Now));
    }

    [Fact]
    public async Task ACookieUsedEveryFewHours_SlidesForAWeek_ThenIsRefused()
    {
        using var database = await TestDatabase.CreateAsync(DatabaseProvider.Sqlite, postgres);
        var clock = new FakeTimeProvider(Now);
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = [], EnvironmentName = "Testing" });
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        builder.AddStratusPlatform(new StratusHostSettings(database.Settings, database.DataFolder, "test"));
        builder.Services.AddSingleton<TimeProvider>(clock); // the cookie's expiry and the sign-in limit read this clock
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(new TestOutputLoggerProvider(output, "api"));
        await using var app = builder.Build();
        app.UseStratusPlatform();
        app.MapPost("/api/v1/test/signin", async (HttpContext http) =>
        {
            await http.SignInAsync(CookieAuthenticationDefaults.AuthenticationScheme, Cookie(clock.GetUtcNow()));
            return Results.NoContent();
        }).AllowAnonymous();
        app.MapGet("/api/v1/test/mine", () => Results.Ok("yours")).RequireAuthorization();
        await app.RunStartupTasksAsync(CancellationToken.None);
        await app.StartAsync();
        using var client = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer() }) { BaseAddress = new Uri(app.Urls.Single()) };

        using (var signedIn = await client.PostAsync(new Uri("/api/v1/test/signin", UriKind.Relative), null))
        {
            Assert.Equal(HttpStatusCode.NoContent, signedIn.StatusCode);
        }

        // Used every 5 hours, the 8-hour cookie slides (it is renewed past half its life) for the whole week.
        var elapsed = TimeSpan.Zero;
        while (elapsed + TimeSpan.FromHours(5) <= CredentialRevocations.LongestSignIn)
        {
            clock.Advance(TimeSpan.FromHours(5));
            elapsed += TimeSpan.FromHours(5);
            using var answer = await client.GetAsync(new Uri("/api/v1/test/mine", UriKind.Relative));
            Assert.True(answer.StatusCode == HttpStatusCode.OK, $"refused {elapsed} after sign-in: {answer.StatusCode}");
        }

        // A second past the week, the cookie (renewed 3 hours ago, so not expired itself) is refused.
        clock.Advance(CredentialRevocations.LongestSignIn - elapsed + TimeSpan.FromSeconds(1));
        using (var refused = await client.GetAsync(new Uri("/api/v1/test/mine", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        }

        await app.StopAsync();
    }

    private static ClaimsPrincipal Cookie(DateTimeOffset signedIn) => new(new ClaimsIdentity(
    [
        new Claim(StratusClaims.Subject, Guid.NewGuid().ToString()),
        new Claim(CredentialRevocations.AuthTimeClaim, signedIn.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture)),
    ], "Cookies"));
}
