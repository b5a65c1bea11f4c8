namespace Stratus.Identity.Auth;

public enum SignInOutcome
{
    Succeeded,
    WrongCredentials,
    AccountDisabled,
    RateLimited,
    TenantSuspended,
}

/// <summary>A recorded sign-in, kept to rate-limit guessing and to audit who signed in from where.</summary>
public sealed class SignInAttempt
{
    public Guid Id { get; init; }

    public required string NormalizedUserName { get; init; }

    public Guid? AccountId { get; init; }

    public Guid? TenantId { get; init; }

    public required string RemoteAddress { get; init; }

    public SignInOutcome Outcome { get; init; }

    public DateTimeOffset At { get; init; }
}
