using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Stratus.Identity.Accounts;
using Stratus.Identity.Persistence;
using Stratus.Identity.Tenants;
using Microsoft.AspNetCore.Identity;
using Stratus.Platform.Auth;

namespace Stratus.Identity.Auth;

public abstract record SignInResult
{
    public sealed record Success(AccountIdentity Identity) : SignInResult;

    public sealed record Refused(SignInOutcome Outcome, string Detail) : SignInResult;

    public sealed record Throttled(TimeSpan RetryAfter, string Detail) : SignInResult;
}

/// <summary>
/// Checks a user name and password, slows guessing down (<see cref="SignInThrottle"/>: growing delays per user name and
/// client, never a lock-out), upgrades a password hash the hasher calls outdated, and records every attempt.
/// </summary>
public sealed partial class SignInService(IdentityDbContext db, TimeProvider clock, ILogger<SignInService> logger)
{
    public async Task<SignInResult> SignInAsync(string userName, string password, string remoteAddress, CancellationToken cancellationToken)
    {
        var normalized = Account.Normalize(userName);
        var now = clock.GetUtcNow();
        if (await SignInThrottle.RetryAfterAsync(db, normalized, remoteAddress, now, cancellationToken) is { } wait)
        {
            await RecordAsync(normalized, userName, null, remoteAddress, SignInOutcome.RateLimited, now, cancellationToken);
            var seconds = Math.Ceiling(wait.TotalSeconds);
            LogThrottled(logger, userName, remoteAddress, seconds);
            return new SignInResult.Throttled(TimeSpan.FromSeconds(seconds),
                $"Too many failed sign-ins for '{userName}' from your address. Wait {seconds:0} seconds and try again; each further failure makes the wait longer.");
        }

        var account = await db.Accounts.FirstOrDefaultAsync(a => a.NormalizedUserName == normalized, cancellationToken);

        // Hash even when the account does not exist, so that timing does not tell which user names exist.
        var verified = Passwords.Verify(account?.PasswordHash ?? DummyHash.Value, password);
        if (account?.PasswordHash is null || verified == PasswordVerificationResult.Failed)
        {
            await RecordAsync(normalized, userName, account, remoteAddress, SignInOutcome.WrongCredentials, now, cancellationToken);
            LogRefused(logger, userName, remoteAddress);
            return new SignInResult.Refused(SignInOutcome.WrongCredentials, "The user name or password is incorrect.");
        }

        if (!account.Enabled)
        {
            await RecordAsync(normalized, userName, account, remoteAddress, SignInOutcome.AccountDisabled, now, cancellationToken);
            return new SignInResult.Refused(SignInOutcome.AccountDisabled, "This account is disabled. Ask your administrator to enable it.");
        }

        if (account.TenantId is { } tenantId
            && await db.Tenants.AnyAsync(t => t.Id == tenantId && t.State == TenantState.Suspended, cancellationToken))
        {
            await RecordAsync(normalized, userName, account, remoteAddress, SignInOutcome.TenantSuspended, now, cancellationToken);
            return new SignInResult.Refused(SignInOutcome.TenantSuspended, "Your organization's access to Stratus is suspended. Contact your service provider.");
        }

        if (verified == PasswordVerificationResult.SuccessRehashNeeded)
        {
            // Saved with the attempt below: the hash of today's parameters, from the password only a success has.
            account.PasswordHash = Passwords.Hash(password);
            LogRehashed(logger, account.UserName);
        }

        await RecordAsync(normalized, account.UserName, account, remoteAddress, SignInOutcome.Succeeded, now, cancellationToken);
        await WaitOutRevocationAsync(account, cancellationToken);
        return new SignInResult.Success(new AccountIdentity(account.Id, account.UserName, account.TenantId, account.Roles));
    }

    /// <summary>
    /// A revocation of this second covers credentials issued in it (their times have whole seconds): issue nothing
    /// before it ends, so that a sign-in right after a change is not taken for one from before it (at most a second).
    /// </summary>
    private async Task WaitOutRevocationAsync(Account account, CancellationToken cancellationToken)
    {
        var tenant = account.TenantId ?? Guid.Empty;
        var notBefore = await db.Revocations.AsNoTracking()
            .Where(r => (r.Subject == RevokedSubject.Account && r.SubjectId == account.Id) || (r.Subject == RevokedSubject.Tenant && r.SubjectId == tenant))
            .Select(r => r.NotBefore).ToListAsync(cancellationToken);
        var wait = notBefore.DefaultIfEmpty(DateTimeOffset.MinValue).Max() - clock.GetUtcNow();
        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait, clock, cancellationToken);
        }
    }

    private async Task RecordAsync(string normalized, string userName, Account? account, string remoteAddress, SignInOutcome outcome, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var attempt = new SignInAttempt
        {
            Id = Guid.CreateVersion7(now),
            NormalizedUserName = normalized,
            AccountId = account?.Id,
            TenantId = account?.TenantId,
            RemoteAddress = remoteAddress,
            Outcome = outcome,
            At = now,
        };
        db.SignInAttempts.Add(attempt);
        db.Publish(new SignInRecorded(attempt.Id, attempt.AccountId, attempt.TenantId, userName, outcome.ToString(), remoteAddress, now));
        await db.SaveChangesAsync(cancellationToken);
    }

    private static readonly Lazy<string> DummyHash = new(() => Passwords.Hash(Guid.NewGuid().ToString()));

    [LoggerMessage(EventId = 2001, Level = LogLevel.Warning, Message = "Refused sign-in for {UserName} from {RemoteAddress}: wrong user name or password")]
    private static partial void LogRefused(ILogger logger, string userName, string remoteAddress);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Warning, Message = "Throttled sign-in for {UserName} from {RemoteAddress}: too many failures, {Seconds} s to wait")]
    private static partial void LogThrottled(ILogger logger, string userName, string remoteAddress, double seconds);

    [LoggerMessage(EventId = 2003, Level = LogLevel.Information, Message = "Upgraded the password hash of {UserName} to the current parameters")]
    private static partial void LogRehashed(ILogger logger, string userName);
}
