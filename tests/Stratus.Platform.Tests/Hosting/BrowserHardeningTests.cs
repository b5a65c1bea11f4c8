using System.Net;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
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
/// The platform on Kestrel, over HTTP and HTTPS at once (a certificate the test makes): the portals' session cookie
/// is HttpOnly and SameSite=Strict on both, and Secure over HTTPS; every answer, an error or a 404 included, carries
/// the security headers; and a failure's log lines and problem carry no Authorization header, query or body.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class BrowserHardeningTests(PostgresServer postgres, ITestOutputHelper output)
{
    [Fact]
    public async Task The_session_cookie_is_HttpOnly_and_SameSite_Strict_and_Secure_over_https_and_every_answer_carries_the_security_headers()
    {
        using var database = await TestDatabase.CreateAsync(DatabaseProvider.Sqlite, postgres);
        using var certificate = LoopbackCertificate();
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = [], EnvironmentName = "Testing" });
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(IPAddress.Loopback, 0);
            kestrel.Listen(IPAddress.Loopback, 0, listen => listen.UseHttps(certificate));
        });
        builder.AddStratusPlatform(new StratusHostSettings(database.Settings, database.DataFolder, "test"));
        builder.Logging.ClearProviders();
        var logs = new TestOutputLoggerProvider(output, "api");
        builder.Logging.AddProvider(logs);
        await using var app = builder.Build();
        app.UseStratusPlatform();
        app.MapPost("/api/v1/test/signin", async (HttpContext http) =>
        {
            var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, "ada")], CookieAuthenticationDefaults.AuthenticationScheme);
            await http.SignInAsync(CookieAuthenticationDefaults.AuthenticationScheme, new ClaimsPrincipal(identity));
            return Results.NoContent();
        }).AllowAnonymous();
        app.MapGet("/api/v1/test/fails", IResult () => throw new InvalidOperationException("a bug")).AllowAnonymous();
        app.MapPost("/api/v1/test/accounts", (TestAccount account) => Results.Ok(account.UserName)).AllowAnonymous();
        await app.RunStartupTasksAsync(CancellationToken.None);
        await app.StartAsync();

        using var handler = new HttpClientHandler
        {
            UseCookies = false,
            // Only the certificate this test made, pinned: not any certificate.
            ServerCertificateCustomValidationCallback = (_, presented, _, _) => presented is not null && presented.Thumbprint == certificate.Thumbprint,
        };
        using var client = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(60) };
        var plain = new Uri(app.Urls.Single(u => u.StartsWith("http://", StringComparison.Ordinal)));
        var secure = new Uri(app.Urls.Single(u => u.StartsWith("https://", StringComparison.Ordinal)));

        var overHttp = await SessionCookieAsync(client, plain);
        var overHttps = await SessionCookieAsync(client, secure);
        foreach (var cookie in new[] { overHttp, overHttps })
        {
            Assert.Contains("httponly", cookie, StringComparer.OrdinalIgnoreCase);
            Assert.Contains("samesite=strict", cookie, StringComparer.OrdinalIgnoreCase);
        }

        Assert.Contains("secure", overHttps, StringComparer.OrdinalIgnoreCase);
        Assert.DoesNotContain("secure", overHttp, StringComparer.OrdinalIgnoreCase);

        // An unhandled error (its answer is written by the exception handler, which clears headers), a 404 and a problem.
        foreach (var (path, status) in new[] { ("/api/v1/test/fails", HttpStatusCode.InternalServerError), ("/no-such-path", HttpStatusCode.NotFound), ("/api/v1/deadLetters", HttpStatusCode.Unauthorized) })
        {
            using var response = await client.GetAsync(new Uri(secure, path));
            Assert.Equal(status, response.StatusCode);
            var policy = string.Join(";", response.Headers.GetValues("Content-Security-Policy"));
            Assert.Contains("frame-ancestors 'none'", policy, StringComparison.Ordinal);
            Assert.Contains("script-src 'self';", policy, StringComparison.Ordinal);
            Assert.DoesNotContain("unsafe-eval", policy, StringComparison.Ordinal);
            Assert.Equal(["nosniff"], response.Headers.GetValues("X-Content-Type-Options"));
            Assert.Equal(["no-referrer"], response.Headers.GetValues("Referrer-Policy"));
            Assert.Equal(["DENY"], response.Headers.GetValues("X-Frame-Options"));
        }

        // A failure logs its method and path, never the caller's Authorization header, query or body.
        var token = $"bearer-secret-{Guid.NewGuid():N}";
        var password = $"password-secret-{Guid.NewGuid():N}";
        using (var failing = new HttpRequestMessage(HttpMethod.Get, new Uri(secure, $"/api/v1/test/fails?password={password}")))
        {
            failing.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
            using var failed = await client.SendAsync(failing);
            Assert.Equal(HttpStatusCode.InternalServerError, failed.StatusCode);
            var problem = await failed.Content.ReadAsStringAsync();
            Assert.DoesNotContain(token, problem, StringComparison.Ordinal);
            Assert.DoesNotContain(password, problem, StringComparison.Ordinal);
        }

        using (var unreadable = new HttpRequestMessage(HttpMethod.Post, new Uri(secure, "/api/v1/test/accounts")))
        {
            unreadable.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
            unreadable.Content = new StringContent($$"""{"userName": "ada", "password": "{{password}}", """, System.Text.Encoding.UTF8, "application/json");
            using var refused = await client.SendAsync(unreadable);
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            Assert.DoesNotContain(password, await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        Assert.Contains(logs.Lines, line => line.Contains("Unhandled error in GET /api/v1/test/fails", StringComparison.Ordinal));
        Assert.DoesNotContain(logs.Lines, line => line.Contains(token, StringComparison.Ordinal) || line.Contains(password, StringComparison.Ordinal));

        // The API reference runs an inline script of its own: no script rule there, but no framing either.
        using var docs = await client.GetAsync(new Uri(secure, "/docs"));
        var docsPolicy = string.Join(";", docs.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("frame-ancestors 'none'", docsPolicy, StringComparison.Ordinal);
        Assert.DoesNotContain("script-src", docsPolicy, StringComparison.Ordinal);
        await app.StopAsync();
    }

    /// <summary>The attributes of the session cookie set by a sign-in, lower-cased, split at ';'.</summary>
    private static async Task<string[]> SessionCookieAsync(HttpClient client, Uri server)
    {
        using var response = await client.PostAsync(new Uri(server, "/api/v1/test/signin"), null);
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        var cookie = response.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("stratus.session=", StringComparison.Ordinal));
        return [.. cookie.Split(';', StringSplitOptions.TrimEntries).Skip(1).Select(a => a.ToLowerInvariant())];
    }

    private static X509Certificate2 LoopbackCertificate()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        var now = TimeProvider.System.GetUtcNow();
        using var created = request.CreateSelfSigned(now.AddDays(-1), now.AddDays(1));
        // Kestrel on Linux needs the key in a form it can hand to OpenSSL: round-trip through PKCS#12.
        return X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pkcs12), null);
    }

    private sealed record TestAccount(string UserName, string Password);
}
