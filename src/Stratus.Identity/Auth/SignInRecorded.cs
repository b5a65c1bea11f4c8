using Stratus.Platform.Messaging;

namespace Stratus.Identity.Auth;

/// <summary>Published for every sign-in, successful or not.</summary>
[MessageName("identity.signInRecorded.v1")]
public sealed record SignInRecorded(
    Guid AttemptId,
    Guid? AccountId,
    Guid? TenantId,
    string UserName,
    string Outcome,
    string RemoteAddress,
    DateTimeOffset At);
