using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Stratus.Identity.Accounts;
using Stratus.Identity.Persistence;
using Stratus.Identity.Tenants;
using Stratus.Platform.Auth;

namespace Stratus.Identity.Auth;

public abstract record SignInResult
{
    public sealed record Success(AccountIdentity Identity) : SignInResult;

    public sealed record Refused(SignInOutcome Outcome, string Detail) : SignInResult;

    public sealed record Throttled(TimeSpan RetryAfter, string Detail) : SignInResult;
}

/// <summary>
/// Checks a user name and password, limits guessing per user name and per address (counted in the
/// database, so that every identity instance enforces the same limit), and records every attempt.
/// </summary>
public sealed partial class SignInService(IdentityDbContext db, TimeProvider clock, ILogger<SignInService> logger)
{
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(15);
    public const int MaxFailuresPerUser = 5;
    public const int MaxFailuresPerAddress = 20;

    public async Task<SignInResult> SignInAsync(string userName, string password, string remoteAddress, CancellationToken cancellationToken)
    {
        var normalized = Account.Normalize(userName);
        var now = clock.GetUtcNow();
        var since = now - Window;
        var failures = db.SignInAttempts.Where(a => a.At >= since && a.Outcome != SignInOutcome.Succeeded);
        var userFailures = await failures.CountAsync(a => a.NormalizedUserName == normalized, cancellationToken);
        var addressFailures = await failures.CountAsync(a => a.RemoteAddress == remoteAddress, cancellationToken);
        if (userFailures >= MaxFailuresPerUser || addressFailures >= MaxFailuresPerAddress)
        {
            await RecordAsync(normalized, userName, null, remoteAddress, SignInOutcome.RateLimited, now, cancellationToken);
            LogThrottled(logger, userName, remoteAddress);
            return new SignInResult.Throttled(Window, $"Too many failed sign-ins for '{userName}' or from your address. Wait {Window.TotalMinutes:0} minutes and try again, or ask an administrator to reset the password.");
        }

        var account = await db.Accounts.AsNoTracking().FirstOrDefaultAsync(a => a.NormalizedUserName == normalized, cancellationToken);

        // Hash even when the account does not exist, so that timing does not tell which user names exist.
        var passwordMatches = Passwords.Verify(account?.PasswordHash ?? DummyHash.Value, password);
        if (account?.PasswordHash is null || !passwordMatches)
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

        await RecordAsync(normalized, account.UserName, account, remoteAddress, SignInOutcome.Succeeded, now, cancellationToken);
        return new SignInResult.Success(new AccountIdentity(account.Id, account.UserName, account.TenantId, account.Roles));
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

    [LoggerMessage(EventId = 2002, Level = LogLevel.Warning, Message = "Throttled sign-in for {UserName} from {RemoteAddress}: too many failures")]
    private static partial void LogThrottled(ILogger logger, string userName, string remoteAddress);
}
