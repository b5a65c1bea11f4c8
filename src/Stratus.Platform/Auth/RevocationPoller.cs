using System.Net.Http.Json;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Stratus.Platform.Hosting;
using Stratus.Platform.Http;

namespace Stratus.Platform.Auth;

/// <summary>
/// Keeps <see cref="CredentialRevocations"/> fresh: asks identity's <c>/api/v1/auth/revocations</c> every
/// <c>Stratus:Auth:RevocationPollInterval</c> (default 5 s), each ask with a deadline. Every instance of every
/// service asks for itself (ADR 0011): a queue hands a message to one instance, and every instance must know.
/// When identity does not answer, the last answer stays in force and one warning says so.
/// </summary>
public sealed partial class RevocationPoller(
    CredentialRevocations revocations, ServiceCalls calls, IConfiguration configuration, IHostApplicationLifetime lifetime, ILogger<RevocationPoller> logger)
    : BackgroundService
{
    public const string Path = "/api/v1/auth/revocations";

    /// <summary>The client (a service of this process) whose credentials ask: every client may read revocations.</summary>
    public const string ClientKey = "Stratus:Auth:RevocationClient";

    public static readonly TimeSpan DefaultInterval = TimeSpan.FromSeconds(5);

    /// <summary>The longest one ask may take: a slow identity delays the next ask, never holds it.</summary>
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    private readonly SemaphoreSlim asking = new(1, 1);
    private bool failing;

    /// <summary>Asks identity now (a console ticket is issued only after a fresh answer); false when it did not answer.</summary>
    public async Task<bool> RefreshAsync(CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(Deadline);
        try
        {
            await asking.WaitAsync(deadline.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // Another ask is still running past the deadline: its answer, when it comes, is the fresh one.
            return false;
        }

        try
        {
            var cursor = revocations.Cursor;

            // A minute of overlap: a change that committed late, with an earlier time than one already seen, still comes.
            var query = cursor is { } since && since > DateTimeOffset.MinValue
                ? $"?since={Uri.EscapeDataString((since - TimeSpan.FromMinutes(1)).ToString("O"))}"
                : "";
            using var identity = calls.For(configuration[ClientKey] ?? "identity", "identity", null, StratusScopes.RevocationsRead);
            var list = await identity.GetFromJsonAsync<CredentialRevocationList>(Path + query, deadline.Token);
            revocations.Apply(list?.Value ?? []);
            if (failing)
            {
                failing = false;
                LogRecovered(logger);
            }

            return true;
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException or InvalidOperationException or System.Text.Json.JsonException
                                  && !cancellationToken.IsCancellationRequested)
        {
            if (!failing)
            {
                failing = true;
                LogFailing(logger, e.Message);
            }

            return false;
        }
        finally
        {
            asking.Release();
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = configuration.GetValue("Stratus:Auth:RevocationPollInterval", DefaultInterval);

        if (!await lifetime.WaitUntilStartedAsync(stoppingToken))
        {
            return;
        }

        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await RefreshAsync(stoppingToken);
                await Task.Delay(interval, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
        }
    }

    public override void Dispose()
    {
        asking.Dispose();
        base.Dispose();
    }

    [LoggerMessage(EventId = 1701, Level = LogLevel.Warning,
        Message = "Cannot read identity's credential revocations ({Reason}); the last known ones stay in force until it answers")]
    private static partial void LogFailing(ILogger logger, string reason);

    [LoggerMessage(EventId = 1702, Level = LogLevel.Information, Message = "Reading identity's credential revocations again")]
    private static partial void LogRecovered(ILogger logger);
}

public static class CredentialRevocationExtensions
{
    /// <summary>Refuses revoked bearer tokens and portal cookies at authentication, for every endpoint of the process.</summary>
    public static IServiceCollection AddCredentialRevocation(this IServiceCollection services)
    {
        services.AddSingleton<CredentialRevocations>();
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<RevocationPoller>();
        services.AddHostedService(provider => provider.GetRequiredService<RevocationPoller>());
        services.AddSingleton<IPostConfigureOptions<JwtBearerOptions>, RefuseRevokedTokens>();
        services.AddSingleton<IPostConfigureOptions<CookieAuthenticationOptions>, RefuseRevokedCookies>();
        return services;
    }

    private sealed class RefuseRevokedTokens(CredentialRevocations revocations) : IPostConfigureOptions<JwtBearerOptions>
    {
        public void PostConfigure(string? name, JwtBearerOptions options)
        {
            options.Events ??= new JwtBearerEvents();
            var before = options.Events.OnTokenValidated;
            options.Events.OnTokenValidated = async context =>
            {
                await before(context);
                if (context.Principal is { } principal && revocations.IsRevoked(principal))
                {
                    context.Fail("The token was revoked: sign in again.");
                }
            };
        }
    }

    private sealed class RefuseRevokedCookies(CredentialRevocations revocations, TimeProvider clock) : IPostConfigureOptions<CookieAuthenticationOptions>
    {
        public void PostConfigure(string? name, CookieAuthenticationOptions options)
        {
            var before = options.Events.OnValidatePrincipal;
            options.Events.OnValidatePrincipal = async context =>
            {
                await before(context);
                if (context.Principal is { } principal
                    && (revocations.IsRevoked(principal, context.Properties.IssuedUtc) || CredentialRevocations.SignInExpired(principal, clock.GetUtcNow())))
                {
                    context.RejectPrincipal();
                    await context.HttpContext.SignOutAsync(context.Scheme.Name);
                }
            };
        }
    }
}
