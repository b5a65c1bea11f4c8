using System.Runtime.InteropServices;
using Stratus.Bench;

// Usage: boot [--image DIR] [--runs N]. Figures go to stdout, progress to stderr.
if (args is not ["boot", .. var options])
{
    Console.Error.WriteLine("usage: Stratus.Bench boot [--image DIR] [--runs N]");
    return 2;
}

string? image = null;
var runs = 3;
for (var i = 0; i < options.Length; i++)
{
    switch (options[i])
    {
        case "--image" when i + 1 < options.Length:
            image = options[++i];
            break;
        case "--runs" when i + 1 < options.Length && int.TryParse(options[i + 1], out var n) && n > 0:
            runs = n;
            i++;
            break;
        default:
            Console.Error.WriteLine($"unknown or incomplete option '{options[i]}'; usage: Stratus.Bench boot [--image DIR] [--runs N]");
            return 2;
    }
}

// Ctrl+C or a kill (SIGTERM) cancels the measurements but lets the cleanup run: nothing may be left behind.
using var stop = new CancellationTokenSource();
void Cancel(PosixSignalContext context)
{
    context.Cancel = true;
    stop.Cancel();
}

using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Cancel);
using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Cancel);

try
{
    return await BootBenchmark.RunAsync(image, runs, stop.Token);
}
catch (Exception exception)
{
    // The measurements report their own failures (and clean up); what arrives here failed before them
    // (the image, its build, the accelerator probe), so there is only the reason to give.
    Console.Error.WriteLine(stop.IsCancellationRequested ? "The benchmark was cancelled." : $"The benchmark could not start: {exception.Message}");
    return 1;
}
