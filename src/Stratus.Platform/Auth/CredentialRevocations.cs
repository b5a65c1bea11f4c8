using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Claims;

namespace Stratus.Platform.Auth;

/// <summary>Whose credentials a revocation ends: one account's, or every account's of a tenant.</summary>
public enum RevokedSubject
{
    Account,
    Tenant,
}

/// <summary>
/// "Every credential of this account (or tenant) issued before <paramref name="NotBefore"/> is invalid": what identity
/// publishes when a user is disabled or deleted, loses a role, or a tenant is suspended (ADR 0011).
/// <paramref name="RecordedAt"/> is when identity last changed it, the cursor of the next poll.
/// </summary>
public sealed record CredentialRevocation(RevokedSubject Subject, Guid SubjectId, DateTimeOffset NotBefore, DateTimeOffset RecordedAt);

public sealed record CredentialRevocationList(IReadOnlyList<CredentialRevocation> Value);

/// <summary>
/// The revocations this process knows, as identity's <c>/api/v1/auth/revocations</c> last said (kept fresh by
/// <see cref="RevocationPoller"/>). Checked at authentication: a bearer token by its <c>iat</c>, a portal cookie by
/// the <c>auth_time</c> claim that sign-in puts in it, a console session by its ticket's time.
/// </summary>
public sealed class CredentialRevocations
{
    /// <summary>Claim of a portal cookie: when its account signed in (unix seconds), kept when the cookie slides.</summary>
    public const string AuthTimeClaim = "auth_time";

    /// <summary>A bearer token's issue time (unix seconds, RFC 7519).</summary>
    public const string IssuedAtClaim = "iat";

    /// <summary>
    /// How long a portal sign-in lasts at most, however often its cookie slides: past it the cookie is refused and its
    /// user signs in again. It bounds every credential a revocation can end (tokens last <see cref="TokenIssuer.Lifetime"/>),
    /// so that identity can forget a revocation once it is older than this (ADR 0011).
    /// </summary>
    public static readonly TimeSpan LongestSignIn = TimeSpan.FromDays(7);

    /// <summary>The longest any credential a revocation ends stays valid: a bearer token's life or a portal sign-in's.</summary>
    public static TimeSpan LongestCredential => LongestSignIn > TokenIssuer.Lifetime ? LongestSignIn : TokenIssuer.Lifetime;

    private readonly ConcurrentDictionary<(RevokedSubject, Guid), DateTimeOffset> notBefore = new();

    /// <summary>The newest <see cref="CredentialRevocation.RecordedAt"/> seen; null before the first answer.</summary>
    public DateTimeOffset? Cursor { get; private set; }

    /// <summary>Raised after new revocations were learned, with them (the gateway closes consoles on it).</summary>
    public event Action<IReadOnlyList<CredentialRevocation>>? Learned;

    /// <summary>
    /// The start of a revocation, rounded up to the next whole second: a token's <c>iat</c> has whole seconds, so one
    /// issued in the same second as the change, before it, is still older than this. Sign-in waits for this instant
    /// before it issues anything to the account (at most a second), so nothing issued after the change is caught.
    /// </summary>
    public static DateTimeOffset NotBeforeFor(DateTimeOffset changedAt)
    {
        var whole = new DateTimeOffset(changedAt.UtcTicks - (changedAt.UtcTicks % TimeSpan.TicksPerSecond), TimeSpan.Zero);
        return whole == changedAt ? whole : whole.AddSeconds(1);
    }

    public void Apply(IReadOnlyList<CredentialRevocation> revocations)
    {
        ArgumentNullException.ThrowIfNull(revocations);
        var learned = new List<CredentialRevocation>();
        foreach (var revocation in revocations)
        {
            var key = (revocation.Subject, revocation.SubjectId);
            var known = notBefore.TryGetValue(key, out var existing) ? existing : (DateTimeOffset?)null;
            if (known is null || revocation.NotBefore > known)
            {
                notBefore[key] = revocation.NotBefore;
                learned.Add(revocation);
            }

            if (Cursor is null || revocation.RecordedAt > Cursor)
            {
                Cursor = revocation.RecordedAt;
            }
        }

        Cursor ??= DateTimeOffset.MinValue;
        if (learned.Count > 0)
        {
            Learned?.Invoke(learned);
        }
    }

    /// <summary>True when a credential of the account (or of its tenant) issued at <paramref name="issuedAt"/> is revoked.</summary>
    public bool IsRevoked(Guid accountId, Guid? tenantId, DateTimeOffset issuedAt) =>
        (notBefore.TryGetValue((RevokedSubject.Account, accountId), out var account) && issuedAt < account)
        || (tenantId is { } tenant && notBefore.TryGetValue((RevokedSubject.Tenant, tenant), out var suspended) && issuedAt < suspended);

    /// <summary>
    /// The principal's credential: a bearer token issued at its <c>iat</c>, a cookie at its <c>auth_time</c>, else at
    /// <paramref name="fallback"/> (a cookie from before <c>auth_time</c>: when the cookie was last written).
    /// </summary>
    public bool IsRevoked(ClaimsPrincipal principal, DateTimeOffset? fallback = null)
    {
        ArgumentNullException.ThrowIfNull(principal);
        if (!Guid.TryParse(principal.FindFirstValue(StratusClaims.Subject), out var account))
        {
            return false;
        }

        var issuedAt = Seconds(principal, IssuedAtClaim) ?? Seconds(principal, AuthTimeClaim) ?? fallback;

        // A credential that does not say when it was issued cannot be shown to be newer than a revocation.
        return IsRevoked(account, principal.TenantId(), issuedAt ?? DateTimeOffset.MinValue);
    }

    /// <summary>
    /// True when a portal cookie's sign-in (<c>auth_time</c>) is older than <see cref="LongestSignIn"/> at
    /// <paramref name="now"/>, or the cookie does not say when it signed in (it slides forever, so no revocation
    /// could be forgotten while it lives): such a cookie is refused.
    /// </summary>
    public static bool SignInExpired(ClaimsPrincipal principal, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(principal);
        return Seconds(principal, AuthTimeClaim) is not { } signedIn || now - signedIn > LongestSignIn;
    }

    private static DateTimeOffset? Seconds(ClaimsPrincipal principal, string claim) =>
        long.TryParse(principal.FindFirstValue(claim), NumberStyles.Integer, CultureInfo.InvariantCulture, out var seconds)
            ? DateTimeOffset.FromUnixTimeSeconds(seconds)
            : null;
}
