using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Stratus.Platform.Hosting;
using Stratus.Platform.Persistence;
using Stratus.Platform.Tests.Support;
using Stratus.Testing;

namespace Stratus.Platform.Tests.Hosting;

/// <summary>
/// Behind the front door: X-Forwarded-For, -Proto and -Host count only from Stratus:TrustedProxies. The client's
/// address is then the one the front door saw, and the discovery document's links are the front door's; from anyone
/// else, or with nothing configured, the headers change nothing.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class TrustedProxiesTests(PostgresServer postgres, ITestOutputHelper output)
{
    [Theory]
    [InlineData("127.0.0.1", true)]
    [InlineData("127.0.0.0/8, 10.1.2.3", true)]
    [InlineData("10.1.2.3", false)]
    [InlineData(null, false)]
    public async Task Forwarded_headers_count_only_from_a_trusted_proxy(string? trusted, bool believed)
    {
        using var database = await TestDatabase.CreateAsync(DatabaseProvider.Sqlite, postgres);
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = [], EnvironmentName = "Testing" });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Configuration[TrustedProxies.Key] = trusted;
        TestSigningKeys.AddTo(builder.Services);
        builder.AddStratusPlatform(new StratusHostSettings(database.Settings, database.DataFolder, "test"));
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(new TestOutputLoggerProvider(output, "api"));
        await using var app = builder.Build();
        app.UseStratusPlatform();
        TestSigningKeys.MapOn(app);
        app.MapGet("/api/v1/test/caller", (HttpContext http) => http.Connection.RemoteIpAddress?.ToString()).AllowAnonymous();
        await app.RunStartupTasksAsync(CancellationToken.None);
        await app.StartAsync();

        using var client = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };
        client.DefaultRequestHeaders.Add("X-Forwarded-For", "203.0.113.7");
        client.DefaultRequestHeaders.Add("X-Forwarded-Proto", "https");
        client.DefaultRequestHeaders.Add("X-Forwarded-Host", "cloudpc.example");

        var caller = await client.GetStringAsync("/api/v1/test/caller");
        var discovery = await client.GetFromJsonAsync<JsonElement>("/.well-known/openid-configuration");
        var jwks = discovery.GetProperty("jwks_uri").GetString()!;
        if (believed)
        {
            Assert.Equal("203.0.113.7", caller);
            Assert.StartsWith("https://cloudpc.example/", jwks, StringComparison.Ordinal);
        }
        else
        {
            Assert.Equal("127.0.0.1", caller);
            Assert.StartsWith(app.Urls.First(), jwks, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void A_value_that_is_no_address_stops_the_start_naming_it()
    {
        var refused = Assert.Throws<ConfigurationException>(() => TrustedProxies.Parse("127.0.0.1, frontdoor.example"));
        Assert.Contains("'frontdoor.example'", refused.Message, StringComparison.Ordinal);
    }
}
