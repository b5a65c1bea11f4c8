using System.CommandLine;

namespace Stratus;

internal static class Cli
{
    public const int UsageError = 2;

    /// <summary>
    /// Parses and runs a command. A mistake on the command line is one line on stderr that says what is
    /// wrong and where the help is, never a screen of usage or a stack trace.
    /// </summary>
    public static async Task<int> InvokeAsync(RootCommand root, string[] args)
    {
        var result = root.Parse(args);
        if (result.Errors.Count > 0)
        {
            var command = string.Join(' ', result.CommandResult.Command.Name == root.Name
                ? ["stratus"]
                : new[] { "stratus" }.Concat(CommandPath(result.CommandResult.Command, root)));
            await Console.Error.WriteLineAsync($"error: {result.Errors[0].Message.TrimEnd('.')}. Run '{command} --help' for usage.");
            return UsageError;
        }

        // The web host handles SIGINT and SIGTERM itself, with a graceful shutdown.
        return await result.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null });
    }

    private static IEnumerable<string> CommandPath(Command command, RootCommand root)
    {
        var path = new Stack<string>();
        for (Command? current = command; current is not null && current != root; current = current.Parents.OfType<Command>().FirstOrDefault())
        {
            path.Push(current.Name);
        }

        return path;
    }
}
