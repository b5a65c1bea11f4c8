using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Stratus.Platform.Http;

namespace Stratus.Platform.Auth;

/// <summary>
/// Bearer tokens are checked with identity's public keys only (ADR 0009): no process but identity holds a key
/// that signs. The keys come from identity's JWKS through the service calls' addresses and failover, are
/// cached, and are read again before a token naming a key not seen yet is checked (a rotation).
/// </summary>
internal sealed class JwksValidation(IdentityKeys keys) : IConfigureNamedOptions<JwtBearerOptions>
{
    public void Configure(string? name, JwtBearerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.MapInboundClaims = false;
        options.TokenValidationParameters = new TokenValidationParameters
        {
            ValidIssuer = StratusTokens.Issuer,
            ValidAudience = StratusTokens.Audience,
            ValidAlgorithms = [SecurityAlgorithms.EcdsaSha256],
            NameClaimType = StratusClaims.Name,
            RoleClaimType = StratusClaims.Role,
            ClockSkew = TimeSpan.FromSeconds(30),
            IssuerSigningKeyResolver = (_, _, kid, _) => keys.Find(kid),
        };
        options.Events ??= new JwtBearerEvents();
        var received = options.Events.OnMessageReceived;
        options.Events.OnMessageReceived = async context =>
        {
            await received(context);
            var header = context.Token ?? context.Request.Headers.Authorization.ToString();
            var token = header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header["Bearer ".Length..].Trim() : header;
            if (token.Length > 0 && new JsonWebTokenHandler().CanReadToken(token))
            {
                await keys.EnsureAsync(new JsonWebToken(token).Kid, context.HttpContext.RequestAborted);
            }
        };
    }

    public void Configure(JwtBearerOptions options) => Configure(Options.DefaultName, options);
}

/// <summary>Identity's published keys, as this process last read them.</summary>
public sealed class IdentityKeys(ServiceCalls calls, TimeProvider clock)
{
    /// <summary>Read again after this long even when every token names a known key (keys also retire).</summary>
    public static readonly TimeSpan MaxAge = TimeSpan.FromMinutes(10);

    /// <summary>The least wait between two reads, so that tokens naming made-up keys cannot make this process flood identity.</summary>
    public static readonly TimeSpan MinInterval = TimeSpan.FromSeconds(2);

    private readonly SemaphoreSlim reading = new(1, 1);
    private volatile IReadOnlyList<JsonWebKey> current = [];
    private DateTimeOffset readAt = DateTimeOffset.MinValue;

    public IEnumerable<SecurityKey> Find(string? kid) => current.Where(k => kid is null || k.Kid == kid);

    /// <summary>Reads the JWKS again if <paramref name="kid"/> is not known or the copy is old; a failed read keeps the old copy.</summary>
    public async Task EnsureAsync(string? kid, CancellationToken cancellationToken)
    {
        if (Fresh() && (kid is null || current.Any(k => k.Kid == kid)))
        {
            return;
        }

        await reading.WaitAsync(cancellationToken);
        try
        {
            var known = kid is null || current.Any(k => k.Kid == kid);
            if ((known && Fresh()) || clock.GetUtcNow() - readAt < MinInterval)
            {
                return;
            }

            readAt = clock.GetUtcNow();
            using var identity = calls.Anonymous("identity");
            var json = await identity.GetStringAsync(StratusTokens.JwksPath, cancellationToken);
            current = new JsonWebKeySet(json).Keys.ToList();
        }
        catch (Exception e) when (e is HttpRequestException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            // Identity is away: the keys read before still check the tokens they signed. With none read yet (a read
            // during start-up, before identity listened), the next token asks again at once rather than being refused
            // for the least interval: nothing could be checked meanwhile, and the reads stay one at a time.
            if (current.Count == 0)
            {
                readAt = DateTimeOffset.MinValue;
            }
        }
        finally
        {
            reading.Release();
        }
    }

    private bool Fresh() => clock.GetUtcNow() - readAt < MaxAge;
}
