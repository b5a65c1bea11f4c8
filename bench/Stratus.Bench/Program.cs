using System.Runtime.InteropServices;
using Stratus.Bench;

// Usage: boot [--image DIR] [--runs N] | copies [--image DIR] [--writes MIB,MIB,...] | hostloss [--image DIR] [--stratus PATH] | failover [--count N] [--timeout MINUTES] [--stratus PATH] | restore [--image DIR] [--runs N] [--stratus PATH] | provision [--count N] [--concurrency N] [--timeout MINUTES] [--stratus PATH] [--keep] | filereplication [--count N] [--size MIB] [--stratus PATH].
// Figures go to stdout, progress to stderr.
const string Usage = """
    usage: Stratus.Bench boot [--image DIR] [--runs N]
           Stratus.Bench copies [--image DIR] [--writes MIB,MIB,...]
           Stratus.Bench hostloss [--image DIR] [--stratus PATH]
           Stratus.Bench failover [--count N] [--timeout MINUTES] [--stratus PATH]
           Stratus.Bench restore [--image DIR] [--runs N] [--stratus PATH]
           Stratus.Bench provision [--count N] [--concurrency N] [--timeout MINUTES] [--stratus PATH] [--keep]
           Stratus.Bench filereplication [--count N] [--size MIB] [--stratus PATH]
    """;

if (args is not [("boot" or "copies" or "hostloss" or "failover" or "restore" or "provision" or "filereplication") and var command, .. var options])
{
    Console.Error.WriteLine(Usage);
    return 2;
}

string? image = null;
var runs = 3;
// provision's default is 2000 Cloud PCs, failover's issue 18's 100.
int? count = null;
var concurrency = 8;
var timeout = TimeSpan.FromMinutes(30);
var keep = false;
var sizeMiB = 64;
// Issue 18's sizes: an incremental copy after writing nothing, 64 MiB and 256 MiB in the guest.
int[] writes = [0, 64, 256];
string? binary = null;
for (var i = 0; i < options.Length; i++)
{
    switch (command, options[i])
    {
        case ("copies", "--writes") when i + 1 < options.Length && Sizes(options[i + 1]) is { } sizes:
            writes = sizes;
            i++;
            break;
        case ("boot" or "copies" or "hostloss" or "restore", "--image") when i + 1 < options.Length:
            image = options[++i];
            break;
        case ("boot" or "restore", "--runs") when Positive(i, out var n):
            runs = n;
            i++;
            break;
        case ("provision" or "failover" or "filereplication", "--count") when Positive(i, out var n):
            count = n;
            i++;
            break;
        case ("provision", "--concurrency") when Positive(i, out var n):
            concurrency = n;
            i++;
            break;
        case ("provision" or "failover", "--timeout") when Positive(i, out var n):
            timeout = TimeSpan.FromMinutes(n);
            i++;
            break;
        case ("filereplication", "--size") when Positive(i, out var n):
            sizeMiB = n;
            i++;
            break;
        case ("provision" or "failover" or "hostloss" or "restore" or "filereplication", "--stratus") when i + 1 < options.Length:
            // Another build of the binary than src/Stratus/bin/Release, to compare two versions.
            binary = Path.GetFullPath(options[++i]);
            break;
        case ("provision", "--keep"):
            // For a look at the databases and stratus.log after the run.
            keep = true;
            break;
        default:
            Console.Error.WriteLine($"unknown or incomplete option '{options[i]}'\n{Usage}");
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
    return command switch
    {
        "boot" => await BootBenchmark.RunAsync(image, runs, stop.Token),
        "copies" => await CopiesBenchmark.RunAsync(image, writes, stop.Token),
        "hostloss" => await HostLossBenchmark.RunAsync(image, binary, stop.Token),
        "failover" => await FailoverBenchmark.RunAsync(binary, count ?? 100, timeout, stop.Token),
        "restore" => await RestoreBenchmark.RunAsync(image, binary, runs, stop.Token),
        "filereplication" => await FileReplicationBenchmark.RunAsync(binary, count ?? 20, sizeMiB, TimeSpan.FromMinutes(5), stop.Token),
        _ => await ProvisionBenchmark.RunAsync(binary, count ?? 2000, concurrency, timeout, keep, stop.Token),
    };
}
catch (Exception exception)
{
    // The measurements report their own failures (and clean up); what arrives here failed before them
    // (the image, its build, the accelerator probe), so there is only the reason to give.
    Console.Error.WriteLine(stop.IsCancellationRequested ? "The benchmark was cancelled." : $"The benchmark could not start: {exception.Message}");
    return 1;
}

bool Positive(int index, out int value)
{
    value = 0;
    return index + 1 < options.Length && int.TryParse(options[index + 1], out value) && value > 0;
}

int[]? Sizes(string list)
{
    var parts = list.Split(',');
    var sizes = new int[parts.Length];
    for (var i = 0; i < parts.Length; i++)
    {
        if (!int.TryParse(parts[i], out sizes[i]) || sizes[i] < 0)
        {
            return null;
        }
    }

    return sizes;
}
