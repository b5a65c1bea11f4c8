using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Stratus.IntegrationTests.Support;
using Stratus.Testing;

namespace Stratus.IntegrationTests.Cli;

/// <summary>
/// `stratus login --cert-hash`: the CLI pins `stratus up --tls`'s self-signed certificate with the pin its banner prints,
/// keeps the pin in the saved login for the other commands, and refuses a server with another key in one line.
/// </summary>
public sealed class PinnedLoginTests
{
    [Fact]
    public async Task Login_with_the_printed_pin_signs_in_and_keeps_it_and_a_wrong_pin_is_refused_with_a_clear_message()
    {
        using var data = new TempFolder();
        using var config = new TempFolder();
        await using var stratus = await StratusProcess.StartAsync(["up", "--tls", "--hosts", "none"], data.Path);
        var url = stratus.BaseAddress.ToString().TrimEnd('/');
        var pin = ImpostorTlsServer.PinOf(X509CertificateLoader.LoadPkcs12FromFile(stratus.CertificateFile, null));
        Assert.Contains($"pin {pin}", stratus.Output, StringComparison.Ordinal);
        var password = new Dictionary<string, string?> { ["STRATUS_PASSWORD"] = TestAccounts.OperatorPassword };

        // Without a pin the self-signed certificate is not trusted.
        var unpinned = await ClientCli.RunAsync(config.Path, ["login", "--url", url, "--user", "operator"], password);
        Assert.Equal(1, unpinned.ExitCode);
        Assert.StartsWith($"error: cannot reach Stratus at {url}/", unpinned.StandardError.Trim(), StringComparison.Ordinal);

        var wrongPin = "sha256:" + new string('0', 64);
        var wrong = await ClientCli.RunAsync(config.Path, ["login", "--url", url, "--user", "operator", "--cert-hash", wrongPin], password);
        Assert.Equal(1, wrong.ExitCode);
        Assert.StartsWith($"error: refused {url}/: its certificate's key is {pin}, not {wrongPin}, the pin given to 'stratus login --cert-hash'.", wrong.StandardError.Trim(), StringComparison.Ordinal);
        Assert.False(File.Exists(CredentialsFile(config.Path)));

        await ClientCli.CheckedAsync(config.Path, ["login", "--url", url, "--user", "operator", "--cert-hash", pin], password);
        using (var saved = JsonDocument.Parse(await File.ReadAllTextAsync(CredentialsFile(config.Path))))
        {
            Assert.Equal(pin, saved.RootElement.GetProperty("certificatePin").GetString());
        }

        // The other commands pin the kept certificate: they reach the server without the machine trusting it.
        var tenants = await ClientCli.CheckedAsync(config.Path, ["tenant", "list", "--output", "json"]);
        Assert.Contains("\"value\"", tenants.StandardOutput, StringComparison.Ordinal);

        var notAPin = await ClientCli.RunAsync(config.Path, ["login", "--url", url, "--user", "operator", "--cert-hash", "abc"], password);
        Assert.Equal(1, notAPin.ExitCode);
        Assert.Equal("error: --cert-hash: 'abc' is not a certificate pin: use sha256: and 64 hex digits, as `stratus up --tls` prints it.", notAPin.StandardError.Trim());
    }

    private static string CredentialsFile(string config) => Path.Combine(config, "stratus", "credentials.json");
}
