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

    /// <summary>`run --tls-cert FILE`: the certificate the process serves, which its test clients trust (and no other).</summary>
    private readonly string? servedCertificateFile;

    private StratusProcess(Process process, Uri baseAddress, string dataFolder, string? servedCertificateFile)
    {
        this.process = process;
        this.servedCertificateFile = servedCertificateFile;
        BaseAddress = baseAddress;
        DataFolder = dataFolder;
        Http = NewClient();
    }

    /// <summary>
    /// Where `up --tls` keeps its certificate. A test's clients trust exactly that certificate (not any): the one the
    /// process made, read when they connect.
    /// </summary>
    public string CertificateFile => Path.Combine(DataFolder, "tls", "control-plane.pfx");

    /// <summary>A client of this process: over HTTPS (`up --tls`) it trusts only the process's own certificate.</summary>
    public HttpClient NewClient()
    {
        var handler = new SocketsHttpHandler();
        if (BaseAddress.Scheme == Uri.UriSchemeHttps)
        {
            handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, _) =>
            {
                if (servedCertificateFile is not null && certificate is not null)
                {
                    using var served = System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPem(File.ReadAllText(servedCertificateFile));
                    return served.RawData.AsSpan().SequenceEqual(certificate.GetRawCertData());
                }

                if (certificate is null || !File.Exists(CertificateFile))
                {
                    return false;
                }

                using var own = System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadPkcs12FromFile(CertificateFile, null);
                return own.RawData.AsSpan().SequenceEqual(certificate.GetRawCertData());
            };
        }

        return new HttpClient(handler) { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
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

    private int OutputLength
    {
        get
        {
            lock (output)
            {
                return output.Length;
            }
        }
    }

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

    /// <summary>A start that still works may take this long on a busy machine; one that stopped working fails sooner.</summary>
    public static readonly TimeSpan StartLimit = TimeSpan.FromMinutes(10);

    /// <summary>A start that used no processor time and printed nothing for this long is stuck, not slow.</summary>
    public static readonly TimeSpan StuckAfter = TimeSpan.FromSeconds(90);

    /// <summary>
    /// Starts `stratus ARGS --urls http://127.0.0.1:PORT` and waits until /readyz answers: up to
    /// <paramref name="startTimeout"/> (<see cref="StartLimit"/>) while it makes progress, <see cref="StuckAfter"/>
    /// once it makes none. Starts take turns, one per core on the machine (<see cref="StartGate"/>).
    /// </summary>
    public static async Task<StratusProcess> StartAsync(IEnumerable<string> arguments, string dataFolder,
        IDictionary<string, string?>? environment = null, TimeSpan? startTimeout = null)
    {
        using var turn = await StartGate.EnterAsync(StartLimit);
        var port = FreePort.Next();
        // `up --tls` and `run --tls-cert` serve the address over HTTPS (http:// becomes https://).
        var arguments_ = arguments.ToList();
        var certificateAt = arguments_.IndexOf("--tls-cert");
        var servedCertificateFile = certificateAt >= 0 ? arguments_[certificateAt + 1] : null;
        var baseAddress = new Uri($"{(arguments_.Contains("--tls") || servedCertificateFile is not null ? "https" : "http")}://127.0.0.1:{port}");
        var start = new ProcessStartInfo(BinaryPath)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments_)
        {
            start.ArgumentList.Add(argument);
        }

        start.ArgumentList.Add("--data");
        start.ArgumentList.Add(dataFolder);
        start.ArgumentList.Add("--urls");
        // Given as http:// also under --tls, which serves it over HTTPS: what a person who adds --tls to their command does.
        start.ArgumentList.Add(baseAddress.ToString().TrimEnd('/').Replace("https://", "http://", StringComparison.Ordinal));
        start.Environment["STRATUS_BOOTSTRAP_PASSWORD"] = TestAccounts.OperatorPassword;
        start.Environment["Stratus__Messaging__PollInterval"] = "00:00:00.200";
        foreach (var (key, value) in environment ?? new Dictionary<string, string?>())
        {
            start.Environment[key] = value;
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("Cannot start stratus");
        var stratus = new StratusProcess(process, baseAddress, dataFolder, servedCertificateFile);
        process.OutputDataReceived += (_, e) => stratus.Append(e.Data);
        process.ErrorDataReceived += (_, e) => stratus.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        await stratus.WaitUntilReadyAsync(startTimeout ?? StartLimit);
        return stratus;
    }

    /// <summary>A client with a bearer token for the given account.</summary>
    public async Task<HttpClient> SignedInClientAsync(string userName, string password)
    {
        var response = await Http.PostAsJsonAsync("/api/v1/auth/token", new { userName, password });
        response.EnsureSuccessStatusCode();
        var token = await response.Content.ReadFromJsonAsync<TokenBody>();
        var client = NewClient();
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

    private async Task WaitUntilReadyAsync(TimeSpan limit)
    {
        var elapsed = Stopwatch.StartNew();
        var progress = new StartProgress(process, () => OutputLength, StuckAfter);
        while (elapsed.Elapsed < limit && progress.Check())
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"stratus exited with {process.ExitCode} before it was ready:\n{Output}");
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
                // Listening but no answer within the client's 30 s: still starting on a busy machine; the progress
                // check decides whether it is worth asking again.
            }

            await Task.Delay(100);
        }

        var verdict = progress.Describe(elapsed.Elapsed);
        process.Kill(entireProcessTree: true);
        throw new TimeoutException($"stratus was not ready within {limit}: {verdict}\n{Output}");
    }

    private sealed record TokenBody(string AccessToken);
}

public static class TestAccounts
{
    public const string OperatorPassword = "operator-test-password-1";
}
