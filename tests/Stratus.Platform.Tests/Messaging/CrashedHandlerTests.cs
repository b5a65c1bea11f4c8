using Microsoft.EntityFrameworkCore;
using Stratus.Platform.Messaging;
using Stratus.Platform.Persistence;
using Stratus.Platform.Tests.Support;
using Stratus.Testing;

namespace Stratus.Platform.Tests.Messaging;

/// <summary>A handler that ends its process: real processes, started by the test, on one database.</summary>
[Collection(PostgresCollection.Name)]
public sealed class CrashedHandlerTests(PostgresServer postgres, ITestOutputHelper output)
{
    private static readonly TimeSpan ProcessDeadline = TimeSpan.FromMinutes(2);

    [Theory]
    [InlineData(DatabaseProvider.Sqlite)]
    [InlineData(DatabaseProvider.Postgres)]
    public async Task Handler_EndingItsProcess_IsDeadLetteredAfterItsAttemptsAndTheServiceKeepsRunning(DatabaseProvider provider)
    {
        using var database = await TestDatabase.CreateAsync(provider, postgres);

        // This host only sets the database up and publishes; the crashing hosts relay and handle.
        await using var setup = MessagingHost.Build(database, output, "setup", CrashingHost.Configure, services: CrashingHost.Register);
        await setup.RunStartupTasksAsync();
        await setup.CreateServiceTablesAsync();
        await setup.ServiceAsync(db =>
        {
            db.Publish(new EndProcess(Guid.NewGuid()));
            return db.SaveChangesAsync();
        });

        // Each attempt ends the process that claimed it; the next process claims it again once its lease ran out.
        for (var attempt = 1; attempt <= CrashingHost.MaxAttempts; attempt++)
        {
            using var crashing = CrashingHost.Start(database.Settings, database.DataFolder, output);
            await crashing.WaitForExitAsync().WaitAsync(ProcessDeadline);
            Assert.NotEqual(0, crashing.ExitCode);
            var row = await EndProcessRowAsync(setup);
            Assert.Equal(attempt, row!.Attempts);
            Assert.Equal(QueueMessageStatus.Pending, row.Status);
        }

        // The attempts are spent: the next process dead-letters the message at its claim instead of running it.
        using var survivor = CrashingHost.Start(database.Settings, database.DataFolder, output);
        try
        {
            // A survivor that ended (it ran the handler, or failed to start) can never dead-letter: say so at once.
            var dead = await Eventually.WaitForAsync(async () =>
                {
                    var row = await EndProcessRowAsync(setup);
                    Assert.False(survivor.HasExited && row?.Status != QueueMessageStatus.Dead,
                        $"The surviving process ended (exit code {(survivor.HasExited ? survivor.ExitCode : 0)}) with the message at {Describe(row)}");
                    return new SeenRow(row);
                }, r => r.Row?.Status == QueueMessageStatus.Dead, "the message to be dead-lettered", ProcessDeadline);
            Assert.Equal(CrashingHost.MaxAttempts, dead.Row!.Attempts);
            Assert.StartsWith($"Its {CrashingHost.MaxAttempts} attempts were spent without an answer", dead.Row.LastError, StringComparison.Ordinal);

            // And it goes on serving.
            var itemId = await setup.CreateItemAsync("after the crashes");
            await Eventually.WaitForAsync(() => setup.ServiceAsync(db => db.HandledItems.CountAsync(h => h.ItemId == itemId)), n => n == 2,
                "the surviving process to handle a new message", ProcessDeadline);
            Assert.False(survivor.HasExited);
        }
        finally
        {
            survivor.Kill(entireProcessTree: true);
            await survivor.WaitForExitAsync();
        }
    }

    private static string Describe(QueueMessage? row) =>
        row is null ? "(no row)" : $"{row.Status}, attempt {row.Attempts}, lease {row.LeaseOwner} until {row.LeaseUntil:O}, visible at {row.VisibleAt:O}";

    private sealed record SeenRow(QueueMessage? Row)
    {
        public override string ToString() => Describe(Row);
    }

    private static Task<QueueMessage?> EndProcessRowAsync(MessagingHost host) =>
        host.PlatformAsync(db => db.QueueMessages.AsNoTracking().SingleOrDefaultAsync(m => m.MessageType == "testsvc.endProcess.v1"));
}
