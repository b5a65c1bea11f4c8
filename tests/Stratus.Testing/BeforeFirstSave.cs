using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Stratus.Testing;

/// <summary>
/// Runs something once, just before the first save of the context it is added to: another writer's change lands
/// between a read and its save, as a background pass or a host's report does in production.
/// </summary>
public sealed class BeforeFirstSave(Func<Task> first) : SaveChangesInterceptor
{
    public int Saves { get; private set; }

    public override async ValueTask<InterceptionResult<int>> SavingChangesAsync(
        DbContextEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(first);
        if (++Saves == 1)
        {
            await first();
        }

        return result;
    }
}
