using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;

namespace Stratus.Testing;

/// <summary>
/// The real stratus binary, started as a child process on a free 127.0.0.1 port and stopped (killed if it
/// must be) when disposed.
/// </summary>
public sealed class StratusProcess : IAsyncDisposable
{
    private readonly Process process;
    private readonly StringBuilder output = new();

    private StratusProcess(Process process, Uri baseAddress, string dataFolder)
    {
        this.process = process;
        BaseAddress = baseAddress;
        DataFolder = dataFolder;
        Http = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(30) };
    }

    public Uri BaseAddress { get; }

    public string DataFolder { get; }

    public HttpClient Http { get; }

    /// <summary>Everything the process printed so far, stdout and stderr interleaved.</summary>
    public string Output
    {
        get
        {
            lock (output)
            {
                return output.ToString();
            }
        }
    }

    public bool HasExited => process.HasExited;

    public static string BinaryPath
    {
        get
        {
            var configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;
            var path = Path.Combine(RepositoryRoot, "src", "Stratus", "bin", configuration, "net10.0", "stratus");
            return File.Exists(path) ? path : throw new FileNotFoundException($"Build src/Stratus first: {path} does not exist.");
        }
    }

    public static string RepositoryRoot
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "Stratus.slnx")))
                {
                    return dir.FullName;
                }
            }

            throw new InvalidOperationException("Cannot find the repository root (Stratus.slnx) above the test binaries.");
        }
    }

    /// <summary>Starts `stratus ARGS --urls http://127.0.0.1:PORT` and waits until /healthz answers.</summary>
    public static async Task<StratusProcess> StartAsync(IEnumerable<string> arguments, string dataFolder,
        IDictionary<string, string?>? environment = null, TimeSpan? startTimeout = null)
    {
        var port = FreePort.Next();
        var baseAddress = new Uri($"http://127.0.0.1:{port}");
        var start = new ProcessStartInfo(BinaryPath)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.ArgumentList.Add("--data");
        start.ArgumentList.Add(dataFolder);
        start.ArgumentList.Add("--urls");
        start.ArgumentList.Add(baseAddress.ToString().TrimEnd('/'));
        start.Environment["STRATUS_BOOTSTRAP_PASSWORD"] = TestAccounts.OperatorPassword;
        start.Environment["Stratus__Messaging__PollInterval"] = "00:00:00.200";
        foreach (var (key, value) in environment ?? new Dictionary<string, string?>())
        {
            start.Environment[key] = value;
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("Cannot start stratus");
        var stratus = new StratusProcess(process, baseAddress, dataFolder);
        process.OutputDataReceived += (_, e) => stratus.Append(e.Data);
        process.ErrorDataReceived += (_, e) => stratus.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        // Generous: with every test project at once on two cores (and TCG VMs busy on both), a start once took over 90 s in CI.
        await stratus.WaitUntilHealthyAsync(startTimeout ?? TimeSpan.FromSeconds(180));
        return stratus;
    }

    /// <summary>A client with a bearer token for the given account.</summary>
    public async Task<HttpClient> SignedInClientAsync(string userName, string password)
    {
        var response = await Http.PostAsJsonAsync("/api/v1/auth/token", new { userName, password });
        response.EnsureSuccessStatusCode();
        var token = await response.Content.ReadFromJsonAsync<TokenBody>();
        var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token!.AccessToken);
        return client;
    }

    public Task<HttpClient> OperatorClientAsync() => SignedInClientAsync("operator", TestAccounts.OperatorPassword);

    /// <summary>Kills the process without a chance to clean up, as a crash would.</summary>
    public void Kill() => process.Kill(entireProcessTree: true);

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        if (!process.HasExited)
        {
            // SIGTERM first: a graceful stop is what an operator's service manager does.
            using var term = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            try
            {
                await process.WaitForExitAsync(wait.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
            }
        }

        process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (output)
        {
            output.AppendLine(line);
        }
    }

    private async Task WaitUntilHealthyAsync(TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < timeout)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"stratus exited with {process.ExitCode} before it was healthy:\n{Output}");
            }

            try
            {
                using var response = await Http.GetAsync("/readyz");
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (TaskCanceledException)
            {
                // Listening but no answer within the client's 30 s: a process still starting among many on two cores
                // (CI once met this while a dozen test hosts started at once). Asked again until the deadline.
            }

            await Task.Delay(100);
        }

        process.Kill(entireProcessTree: true);
        throw new TimeoutException($"stratus was not ready within {timeout}:\n{Output}");
    }

    private sealed record TokenBody(string AccessToken);
}

public static class TestAccounts
{
    public const string OperatorPassword = "operator-test-password-1";
}
