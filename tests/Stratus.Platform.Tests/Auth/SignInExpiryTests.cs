using System.Globalization;
using System.Security.Claims;
using Stratus.Platform.Auth;

namespace Stratus.Platform.Tests.Auth;

/// <summary>
/// A portal sign-in lasts at most a week however often its cookie slides, so that identity may forget a revocation
/// a week old (ADR 0011, RevocationPruner): a cookie past it, or one that does not say when it signed in, is refused.
/// </summary>
public sealed class SignInExpiryTests
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

    private static ClaimsPrincipal Cookie(DateTimeOffset signedIn) => new(new ClaimsIdentity(
    [
        new Claim(StratusClaims.Subject, Guid.NewGuid().ToString()),
        new Claim(CredentialRevocations.AuthTimeClaim, signedIn.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture)),
    ], "Cookies"));
}
