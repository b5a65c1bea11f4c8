using System.Globalization;
using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.Tokens;
using Stratus.Platform.Auth;
using Stratus.Platform.Messaging;

namespace Stratus.Identity.Keys;

/// <summary>
/// Identity's ES256 signing keys (ADR 0009). Time is cut into rotation periods; the key of a period is named by
/// its number, so every identity instance signs with the same key and the first to need it creates it. A key
/// is published from the period before its own (verifiers read it before it signs) until the last token it signed
/// has expired, then is deleted. The private halves are kept in
/// the platform store encrypted with identity's data protection, which only identity's master key opens.
/// </summary>
public sealed partial class SigningKeyStore(IServiceScopeFactory scopes, IdentitySecrets secrets, SigningKeyOptions options, TimeProvider clock,
    ILogger<SigningKeyStore> logger) : ISigningKeySource
{
    private const string NamePrefix = "identity-signing-key/";

    private volatile Loaded? loaded;

    public SigningCredentials Current => (loaded ?? throw new InvalidOperationException("The signing keys are loaded at start.")).Current;

    public IReadOnlyList<JsonWebKey> Published => loaded?.Published ?? [];

    /// <summary>Loads the keys of the current, next and recent periods, creating the current and next ones if they are new.</summary>
    public async Task RefreshAsync(CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var period = PeriodOf(now);
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PlatformDbContext>();
        var currentName = NamePrefix + period.ToString(CultureInfo.InvariantCulture);
        var currentValue = await PlatformSecrets.GetOrCreateAsync(db, currentName, () => secrets.Protect(NewKey()), clock, cancellationToken);
        // The next period's key is published a whole period before it signs, so that every verifier has read it by then.
        try
        {
            await PlatformSecrets.GetOrCreateAsync(db, NamePrefix + (period + 1).ToString(CultureInfo.InvariantCulture), () => secrets.Protect(NewKey()), clock, cancellationToken);
        }
        catch (Exception e) when (Platform.Persistence.ReadOnlyStore.Refused(e))
        {
            // A standby region's store, before the writable region made it: this instance still signs with the current
            // key (it needs it to ask for its region's lease), and a later refresh publishes the next one.
        }

        var stored = await db.Secrets.AsNoTracking().Where(s => s.Name.StartsWith(NamePrefix)).ToListAsync(cancellationToken);
        var published = new List<JsonWebKey>();
        SigningCredentials? current = null;
        foreach (var secret in stored.OrderByDescending(s => s.Name, StringComparer.Ordinal))
        {
            var number = long.Parse(secret.Name[NamePrefix.Length..], CultureInfo.InvariantCulture);
            // Tokens of a period's key are signed until the period ends and live one token lifetime more.
            var lastExpiry = StartOf(number + 1) + TokenIssuer.Lifetime + TimeSpan.FromMinutes(1);
            if (number > period + 1)
            {
                continue;
            }

            if (lastExpiry < now)
            {
                try
                {
                    await db.Secrets.Where(s => s.Name == secret.Name).ExecuteDeleteAsync(cancellationToken);
                    LogKeyRetired(logger, secret.Name);
                }
                catch (Exception e) when (Platform.Persistence.ReadOnlyStore.Refused(e))
                {
                    // A standby region's store: the writable region deletes it, and it is not published here either way.
                }

                continue;
            }

            var key = Load(number, secret.Name == currentName ? currentValue : secret.Value);
            published.Add(JsonWebKeyConverter.ConvertFromECDsaSecurityKey(key));
            if (number == period)
            {
                current = new SigningCredentials(key, SecurityAlgorithms.EcdsaSha256);
            }
        }

        if (loaded?.Current.Kid != current!.Kid)
        {
            LogSigningWith(logger, current.Kid, published.Count);
        }

        loaded = new Loaded(current, published);
    }

    internal long PeriodOf(DateTimeOffset time) => time.ToUnixTimeSeconds() / (long)options.Rotation.TotalSeconds;

    private DateTimeOffset StartOf(long period) => DateTimeOffset.FromUnixTimeSeconds(period * (long)options.Rotation.TotalSeconds);

    private static byte[] NewKey()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        return key.ExportPkcs8PrivateKey();
    }

    private ECDsaSecurityKey Load(long period, string protectedKey)
    {
        var key = ECDsa.Create();
        key.ImportPkcs8PrivateKey(secrets.Unprotect(protectedKey), out _);
        return new ECDsaSecurityKey(key) { KeyId = "k" + period.ToString(CultureInfo.InvariantCulture) };
    }

    private sealed record Loaded(SigningCredentials Current, IReadOnlyList<JsonWebKey> Published);

    [LoggerMessage(EventId = 1090, Level = LogLevel.Information, Message = "Tokens are signed with key {KeyId}; {Published} key(s) published")]
    private static partial void LogSigningWith(ILogger logger, string keyId, int published);

    [LoggerMessage(EventId = 1091, Level = LogLevel.Information, Message = "Signing key {Name} deleted: every token it signed has expired")]
    private static partial void LogKeyRetired(ILogger logger, string name);
}

/// <summary>How often identity's signing key changes: Stratus:Identity:SigningKeyRotation, 30 days unless set.</summary>
public sealed record SigningKeyOptions(TimeSpan Rotation)
{
    public static readonly TimeSpan DefaultRotation = TimeSpan.FromDays(30);
}

/// <summary>Loads the keys before the first request, then again often enough to meet each new period on time.</summary>
internal sealed partial class SigningKeyRefresher(SigningKeyStore store, SigningKeyOptions options, ILogger<SigningKeyRefresher> logger) : BackgroundService, Platform.Persistence.IStartupTask
{
    public Task RunAsync(IServiceProvider services, CancellationToken cancellationToken) => store.RefreshAsync(cancellationToken);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromTicks(Math.Min(options.Rotation.Ticks / 10, TimeSpan.FromMinutes(1).Ticks)));
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await store.RefreshAsync(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // The keys loaded last still sign and verify; the next tick tries again.
                LogRefreshFailed(logger, e);
            }
        }
    }

    [LoggerMessage(EventId = 1092, Level = LogLevel.Warning, Message = "The signing keys could not be read again; the ones loaded last are used")]
    private static partial void LogRefreshFailed(ILogger logger, Exception exception);
}
