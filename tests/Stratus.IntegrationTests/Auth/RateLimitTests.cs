using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Identity;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using Stratus.IntegrationTests.Support;
using Stratus.Testing;

namespace Stratus.IntegrationTests.Auth;

/// <summary>
/// Issue 17, item 5: guessing passwords slows the guessing client down with growing delays, and never locks the
/// account's owner out; a password hash of older parameters is upgraded at the next sign-in. Its own process.
/// </summary>
public sealed class RateLimitTests(StratusUpFixture fixture) : IClassFixture<StratusUpFixture>
{
    private StratusProcess Stratus => fixture.Stratus;

    [Fact]
    public async Task Guesses_from_one_client_get_growing_delays_while_the_right_password_from_another_client_signs_in()
    {
        // Taken before the guessing, to read the audit log afterwards.
        using var reader = await Stratus.OperatorClientAsync();
        using var attacker = ClientFrom(IPAddress.Parse("127.0.0.1"));
        using var owner = ClientFrom(IPAddress.Parse("127.0.0.2"));

        for (var attempt = 1; attempt <= 3; attempt++)
        {
            using var wrong = await attacker.RequestTokenAsync(Api.Operator, $"wrong-password-{attempt}");
            await ProblemAssert.IsProblemAsync(wrong, HttpStatusCode.Unauthorized);
        }

        // The guessing client now waits, even with the right password, and each early try makes the wait longer.
        using var first = await attacker.RequestTokenAsync(Api.Operator, TestAccounts.OperatorPassword);
        await ProblemAssert.IsProblemAsync(first, HttpStatusCode.TooManyRequests);
        var firstWait = first.Headers.RetryAfter?.Delta ?? throw new Xunit.Sdk.XunitException("the first 429 has no Retry-After");
        using var second = await attacker.RequestTokenAsync(Api.Operator, "wrong-password-4");
        await ProblemAssert.IsProblemAsync(second, HttpStatusCode.TooManyRequests);
        var secondWait = second.Headers.RetryAfter?.Delta ?? throw new Xunit.Sdk.XunitException("the second 429 has no Retry-After");
        Assert.InRange(firstWait, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(15));
        Assert.True(secondWait > firstWait, $"the wait grows: {firstWait} then {secondWait}");

        // Meanwhile the owner, from another client, signs in with the right password: no lock-out a stranger can cause.
        using (var signedIn = await owner.RequestTokenAsync(Api.Operator, TestAccounts.OperatorPassword))
        {
            Assert.Equal(HttpStatusCode.OK, signedIn.StatusCode);
        }

        // Another user name from the guessing client is still answered on its merits.
        using (var other = await attacker.RequestTokenAsync("someone-else", "wrong-password-x"))
        {
            await ProblemAssert.IsProblemAsync(other, HttpStatusCode.Unauthorized);
        }

        // A delay, not a lock-out: after the wait it was told, the guessing client's right password works too.
        await Task.Delay(secondWait + TimeSpan.FromSeconds(1));
        using (var afterWait = await attacker.RequestTokenAsync(Api.Operator, TestAccounts.OperatorPassword))
        {
            Assert.Equal(HttpStatusCode.OK, afterWait.StatusCode);
        }

        var failures = await Eventually.MatchesAsync(
            async () => (await reader.AuditEventsAsync()).Value
                .Where(e => e.Actor.UserPrincipalName == Api.Operator && e.ActivityResult == "failure").ToList(),
            list => list.Count >= 5,
            "three refused and two throttled sign-ins in the audit log");
        Assert.Equal(5, failures.Count);
    }

    [Fact]
    public async Task A_password_hash_of_older_parameters_is_upgraded_at_the_next_sign_in()
    {
        const string password = "upgrade-password-123";
        using var operatorClient = await Stratus.OperatorClientAsync();
        var domain = $"u{Guid.NewGuid():N}"[..14] + ".test";
        using (var created = await operatorClient.PostAsJsonAsync("/api/v1/tenants", new { displayName = "Upgrade", domain, admin = new { userName = $"admin@{domain}", password } }))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        // A hash as an older release made it: PBKDF2 with a thousand iterations, which today's hasher asks to redo.
        var current = new PasswordHasher<object>();
        var old = new PasswordHasher<object>(Options.Create(new PasswordHasherOptions { IterationCount = 1000 })).HashPassword(new object(), password);
        Assert.Equal(PasswordVerificationResult.SuccessRehashNeeded, current.VerifyHashedPassword(new object(), old, password));
        var userName = $"ADMIN@{domain.ToUpperInvariant()}";
        await ExecuteAsync("UPDATE accounts SET PasswordHash = $hash WHERE NormalizedUserName = $name", ("$hash", old), ("$name", userName));

        using (var signedIn = await Stratus.Http.RequestTokenAsync($"admin@{domain}", password))
        {
            Assert.Equal(HttpStatusCode.OK, signedIn.StatusCode);
        }

        var upgraded = await ReadHashAsync(userName);
        Assert.NotEqual(old, upgraded);
        Assert.Equal(PasswordVerificationResult.Success, current.VerifyHashedPassword(new object(), upgraded, password));
        using (var again = await Stratus.Http.RequestTokenAsync($"admin@{domain}", password))
        {
            Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        }
    }

    private HttpClient ClientFrom(IPAddress local) => LoopbackClient.From(local, Stratus.BaseAddress);

    private string IdentityStore => $"Data Source={Path.Combine(Stratus.DataFolder, "db", "identity.db")}";

    private async Task ExecuteAsync(string sql, params (string Name, object Value)[] parameters)
    {
        await using var connection = new SqliteConnection(IdentityStore);
        await connection.OpenAsync();
        await using var command = new SqliteCommand(sql, connection);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        Assert.Equal(1, await command.ExecuteNonQueryAsync());
    }

    private async Task<string> ReadHashAsync(string normalizedUserName)
    {
        await using var connection = new SqliteConnection(IdentityStore);
        await connection.OpenAsync();
        await using var command = new SqliteCommand("SELECT PasswordHash FROM accounts WHERE NormalizedUserName = $name", connection);
        command.Parameters.AddWithValue("$name", normalizedUserName);
        return (string)(await command.ExecuteScalarAsync())!;
    }
}
