namespace Stratus.Platform.Messaging;

/// <summary>The inbox record a handler's store owes for the message it handles, and whether it was saved yet.</summary>
internal sealed class InboxMark(MessageContext message, bool inOwnTransaction)
{
    public MessageContext Message => message;

    /// <summary>The handler's effect is the transaction it opens; saves outside it carry no record.</summary>
    public bool InOwnTransaction => inOwnTransaction;

    public bool IsSaved { get; private set; }

    public void Saved() => IsSaved = true;
}

/// <summary>
/// Marks a handler whose effect is the one transaction it opens, after saves of idempotent progress (a directory
/// sync that saves page by page): the inbox record then joins the first save inside that transaction, instead of
/// the handler's first save. When the handler opens none, the worker saves the record after it returns.
/// </summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class EffectInOwnTransactionAttribute : Attribute;
