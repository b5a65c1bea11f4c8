using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Stratus.Platform.Messaging;
using Stratus.Provisioning.Persistence;

namespace Stratus.Provisioning.CloudPcs;

/// <summary>
/// An operation still running at its deadline fails: whatever it waited for (a host's answer, a VM's report) is
/// not waited for any more, and its Cloud PC accepts actions again. A late answer finds the operation done and
/// changes nothing.
/// </summary>
internal sealed class OperationDeadlineHandler(ProvisioningDbContext db, Lifecycle lifecycle, IOptions<ProvisioningOptions> options) : IMessageHandler<OperationDeadline>
{
    /// <summary>The statusDetail code of a Cloud PC whose operation passed its deadline.</summary>
    public const string TimedOut = "operationTimedOut";

    public async Task HandleAsync(OperationDeadline message, MessageContext context, CancellationToken cancellationToken)
    {
        var operation = await db.Operations.FindAsync([message.OperationId], cancellationToken);
        if (operation is { Status: OperationStatus.Running })
        {
            var deadline = options.Value.OperationDeadlines.For(operation.Action);
            var detail = $"{operation.Action} did not complete within its deadline ({deadline:c}); it is no longer waited for. Send it again.";
            var pc = await db.CloudPcs.FirstOrDefaultAsync(p => p.Id == message.CloudPcId, cancellationToken);
            if (pc is not null && pc.ActiveOperationId == operation.Id)
            {
                lifecycle.FailActiveOperation(pc, TimedOut, detail);
            }
            else
            {
                lifecycle.FailOperation(operation, detail);
            }
        }

        await db.SaveChangesAsync(cancellationToken);
    }
}
