using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Stratus.Identity.Persistence;
using Stratus.Platform;
using Stratus.Platform.Auth;
using Stratus.Platform.Hosting;
using Stratus.Platform.Persistence;

namespace Stratus.Identity.Accounts;

/// <summary>What the first start created, for the host to tell the person who started it.</summary>
public sealed class BootstrapResult
{
    public const string OperatorUserName = "operator";

    public bool Created { get; set; }

    /// <summary>The generated password, or null when it came from STRATUS_BOOTSTRAP_PASSWORD.</summary>
    public string? GeneratedPassword { get; set; }

    public string? PasswordFile { get; set; }
}

/// <summary>
/// Creates the platform operator on the first start. The password comes from STRATUS_BOOTSTRAP_PASSWORD or
/// is generated, printed once, and kept in the data folder readable by its owner only.
/// </summary>
internal sealed class BootstrapOperator(IConfiguration configuration, StratusHostSettings host, BootstrapResult result, TimeProvider clock) : IStartupTask
{
    public const string PasswordVariable = "STRATUS_BOOTSTRAP_PASSWORD";
    public const string PasswordFileName = "operator-password";

    public async Task RunAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<IdentityDbContext>();
        var operators = await db.Accounts.AsNoTracking().Where(a => a.TenantId == null).ToListAsync(cancellationToken);
        if (operators.Any(a => a.Roles.Contains(StratusRoles.PlatformOperator)))
        {
            return;
        }

        var given = configuration[PasswordVariable];
        if (given is not null && given.Length < Passwords.MinimumLength)
        {
            throw new ConfigurationException($"{PasswordVariable} must be at least {Passwords.MinimumLength} characters; unset it to have a password generated.");
        }

        var password = given ?? Passwords.Generate();
        var now = clock.GetUtcNow();
        db.Accounts.Add(new Account
        {
            Id = Guid.CreateVersion7(now),
            UserName = BootstrapResult.OperatorUserName,
            NormalizedUserName = Account.Normalize(BootstrapResult.OperatorUserName),
            DisplayName = "Platform operator",
            PasswordHash = Passwords.Hash(password),
            Roles = [StratusRoles.PlatformOperator],
            CreatedAt = now,
        });
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException e) when (!ReadOnlyStore.Refused(e))
        {
            // Another identity instance created the operator at the same moment.
            return;
        }

        result.Created = true;
        if (given is null)
        {
            result.GeneratedPassword = password;
            result.PasswordFile = Path.Combine(host.DataFolder, PasswordFileName);
            await WriteOwnerOnlyAsync(result.PasswordFile, password + "\n", cancellationToken);
        }
    }

    private static async Task WriteOwnerOnlyAsync(string path, string content, CancellationToken cancellationToken)
    {
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            // Created 0600 rather than chmod-ed afterwards, so that it is never readable by others.
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        await using var stream = new FileStream(path, options);
        await using var writer = new StreamWriter(stream);
        await writer.WriteAsync(content.AsMemory(), cancellationToken);
    }
}
