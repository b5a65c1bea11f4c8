using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Stratus.Platform.Messaging;
using Stratus.Platform.Persistence;

namespace Stratus.Platform.Tests.Support;

/// <summary>Ends the process that handles it, as an out-of-memory, a stack overflow or a kill would.</summary>
[MessageName("testsvc.endProcess.v1")]
public sealed record EndProcess(Guid ItemId);

internal sealed class EndProcessHandler : IMessageHandler<EndProcess>
{
    public Task HandleAsync(EndProcess message, MessageContext context, CancellationToken cancellationToken)
    {
        Environment.FailFast($"EndProcessHandler ends this process on attempt {context.Attempt}");
        return Task.CompletedTask;
    }
}

/// <summary>
/// A messaging host in a process of its own (this test assembly, run with "crashing-host"), for the tests of a handler
/// that ends its process: MessagingHost with EndProcess on queue alpha, until it is killed or ends itself.
/// </summary>
public static class CrashingHost
{
    public const string Command = "crashing-host";

    public const int MaxAttempts = 2;

    // Long enough that a process slowed by a heavy load still reaches its handler's crash before its own lease runs
    // out: with 1 s, a fresh-clone run saw the crashing process claim the message again after that and dead-letter it
    // one attempt early.
    public static readonly TimeSpan Lease = TimeSpan.FromSeconds(4);

    public static void Register(IServiceCollection services) =>
        services.AddMessageHandler<EndProcess, EndProcessHandler, TestDbContext>(MessagingHost.QueueA);

    public static void Configure(MessagingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.MaxAttempts = MaxAttempts;
        options.LeaseDuration = Lease;
    }

    /// <summary>Starts this assembly as a crashing host on the database; its output goes to the test's.</summary>
    public static Process Start(DatabaseSettings database, string dataFolder, ITestOutputHelper output)
    {
        ArgumentNullException.ThrowIfNull(database);
        ArgumentNullException.ThrowIfNull(output);
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[] { typeof(CrashingHost).Assembly.Location, Command, database.Provider == DatabaseProvider.Sqlite ? DatabaseSettings.SqlitePrefix + database.Target : database.Target, dataFolder })
        {
            start.ArgumentList.Add(argument);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start");
        process.OutputDataReceived += (_, e) => WriteLine(output, e.Data);
        process.ErrorDataReceived += (_, e) => WriteLine(output, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static void WriteLine(ITestOutputHelper output, string? line)
    {
        if (line is null)
        {
            return;
        }

        try
        {
            output.WriteLine($"[crashing-host] {line}");
        }
        catch (InvalidOperationException)
        {
            // The test is over.
        }
    }

    internal static async Task<int> RunAsync(string database, string dataFolder)
    {
        await using var host = MessagingHost.Build(DatabaseSettings.Parse(database), dataFolder, new ConsoleOutput(), "crashing-host", Configure, services: Register);
        await host.RunStartupTasksAsync();
        await host.StartAsync();
        await host.App.WaitForShutdownAsync();
        return 0;
    }

    private sealed class ConsoleOutput : ITestOutputHelper
    {
        public void WriteLine(string message) => Console.Error.WriteLine(message);

        public void WriteLine(string format, params object[] args) => Console.Error.WriteLine(format, args);
    }
}

internal static class Program
{
    public static Task<int> Main(string[] args) =>
        args is [CrashingHost.Command, var database, var dataFolder]
            ? CrashingHost.RunAsync(database, dataFolder)
            : Task.FromResult(2);
}
