using Stratus.Diagnostics.Persistence;
using Stratus.Platform.Messaging;

namespace Stratus.Diagnostics.Audit;

/// <summary>Diagnostics' own copy of identity's sign-in event.</summary>
[MessageName("identity.signInRecorded.v1")]
public sealed record SignInRecorded(
    Guid AttemptId,
    Guid? AccountId,
    Guid? TenantId,
    string UserName,
    string Outcome,
    string RemoteAddress,
    DateTimeOffset At);

internal sealed class SignInRecordedHandler(DiagnosticsDbContext db) : IMessageHandler<SignInRecorded>
{
    public async Task HandleAsync(SignInRecorded message, MessageContext context, CancellationToken cancellationToken)
    {
        var succeeded = message.Outcome == "Succeeded";
        db.AuditEvents.Add(new AuditEvent
        {
            Id = message.AttemptId,
            TenantId = message.TenantId,
            DisplayName = succeeded ? $"{message.UserName} signed in" : $"Sign-in refused for {message.UserName} ({Describe(message.Outcome)})",
            Category = "authentication",
            Activity = "Sign in",
            ActivityType = "SignIn",
            ActivityResult = succeeded ? "success" : "failure",
            ActivityDateTime = message.At,
            ActorId = message.AccountId,
            ActorUserPrincipalName = message.UserName,
            ActorIpAddress = message.RemoteAddress,
            SourceMessageId = context.MessageId,
        });
        await db.SaveChangesAsync(cancellationToken);
    }

    private static string Describe(string outcome) => outcome switch
    {
        "WrongCredentials" => "wrong user name or password",
        "AccountDisabled" => "account disabled",
        "RateLimited" => "too many failures",
        "TenantSuspended" => "tenant suspended",
        _ => outcome,
    };
}
