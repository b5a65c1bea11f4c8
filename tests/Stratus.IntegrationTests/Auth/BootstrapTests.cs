using System.Net;
using System.Runtime.Versioning;
using System.Text.RegularExpressions;
using Stratus.IntegrationTests.Support;
using Stratus.Testing;

namespace Stratus.IntegrationTests.Auth;

/// <summary>The first start without STRATUS_BOOTSTRAP_PASSWORD: the operator's password is generated and shown once.</summary>
[UnsupportedOSPlatform("windows")]
public sealed partial class BootstrapTests
{
    private static readonly Dictionary<string, string?> NoBootstrapPassword = new() { ["STRATUS_BOOTSTRAP_PASSWORD"] = null };

    [Fact]
    public async Task FirstStart_PrintsAndKeepsAGeneratedPassword_SecondStartDoesNot()
    {
        using var data = new TempFolder();
        var file = Path.Combine(data.Path, "operator-password");
        string password;

        await using (var first = await StratusProcess.StartAsync(["up"], data.Path, NoBootstrapPassword))
        {
            var output = await Eventually.MatchesAsync(() => Task.FromResult(first.Output), o => o.Contains("Press Ctrl+C", StringComparison.Ordinal),
                "the start banner", TimeSpan.FromSeconds(30));
            var printed = PrintedPassword().Match(output);
            Assert.True(printed.Success, $"No generated password in the output:\n{output}");
            password = printed.Groups[1].Value;
            Assert.NotEqual(TestAccounts.OperatorPassword, password);
            Assert.True(password.Length >= 12, password);

            Assert.True(File.Exists(file), $"{file} does not exist.");
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
            Assert.Equal(password, (await File.ReadAllTextAsync(file)).Trim());

            using var signedIn = await first.SignedInClientAsync(Api.Operator, password);
            using var me = await signedIn.GetAsync("/api/v1/me");
            Assert.Equal(HttpStatusCode.OK, me.StatusCode);
        }

        await using var second = await StratusProcess.StartAsync(["up"], data.Path, NoBootstrapPassword);
        var again = await Eventually.MatchesAsync(() => Task.FromResult(second.Output), o => o.Contains("Press Ctrl+C", StringComparison.Ordinal),
            "the start banner", TimeSpan.FromSeconds(30));
        Assert.DoesNotMatch(PrintedPassword(), again);
        Assert.DoesNotContain(password, again, StringComparison.Ordinal);
        Assert.Equal(password, (await File.ReadAllTextAsync(file)).Trim());
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        using var stillWorks = await second.Http.RequestTokenAsync(Api.Operator, password);
        Assert.Equal(HttpStatusCode.OK, stillWorks.StatusCode);
    }

    [Fact]
    public async Task FirstStart_WithBootstrapPassword_UsesIt_AndWritesNoPasswordFile()
    {
        using var data = new TempFolder();

        await using var stratus = await StratusProcess.StartAsync(["up"], data.Path);

        using var token = await stratus.Http.RequestTokenAsync(Api.Operator, TestAccounts.OperatorPassword);
        Assert.Equal(HttpStatusCode.OK, token.StatusCode);
        Assert.False(File.Exists(Path.Combine(data.Path, "operator-password")));
        var output = await Eventually.MatchesAsync(() => Task.FromResult(stratus.Output), o => o.Contains("Press Ctrl+C", StringComparison.Ordinal),
            "the start banner", TimeSpan.FromSeconds(30));
        Assert.DoesNotContain(TestAccounts.OperatorPassword, output, StringComparison.Ordinal);
    }

    [GeneratedRegex("Sign in as 'operator' with password (\\S+)")]
    private static partial Regex PrintedPassword();
}
