using System.Net;
using Stratus.IntegrationTests.Support;
using Stratus.Testing;

namespace Stratus.IntegrationTests.Auth;

/// <summary>Guessing passwords: its own process, since it locks the operator out for 15 minutes.</summary>
public sealed class RateLimitTests(StratusUpFixture fixture) : IClassFixture<StratusUpFixture>
{
    private StratusProcess Stratus => fixture.Stratus;

    [Fact]
    public async Task FiveWrongPasswords_ThenEvenTheRightOne_Returns429WithRetryAfter_AndEveryAttemptIsAudited()
    {
        // Taken before the lock-out, to read the audit log afterwards.
        using var reader = await Stratus.OperatorClientAsync();

        for (var attempt = 1; attempt <= 5; attempt++)
        {
            using var wrong = await Stratus.Http.RequestTokenAsync(Api.Operator, $"wrong-password-{attempt}");
            await ProblemAssert.IsProblemAsync(wrong, HttpStatusCode.Unauthorized);
        }

        using var throttled = await Stratus.Http.RequestTokenAsync(Api.Operator, TestAccounts.OperatorPassword);

        await ProblemAssert.IsProblemAsync(throttled, HttpStatusCode.TooManyRequests);
        var retryAfter = throttled.Headers.RetryAfter?.Delta;
        Assert.NotNull(retryAfter);
        Assert.InRange(retryAfter.Value, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(15));

        // The limit is per user name: another name from the same address is still answered on its merits.
        using (var other = await Stratus.Http.RequestTokenAsync("someone-else", "wrong-password-x"))
        {
            await ProblemAssert.IsProblemAsync(other, HttpStatusCode.Unauthorized);
        }

        var failures = await Eventually.MatchesAsync(
            async () => (await reader.AuditEventsAsync()).Value
                .Where(e => e.Actor.UserPrincipalName == Api.Operator && e.ActivityResult == "failure").ToList(),
            list => list.Count >= 6,
            "five refused and one throttled sign-in in the audit log");
        Assert.Equal(6, failures.Count);
        Assert.Equal(6, failures.Select(e => e.Id).Distinct().Count());
    }
}
