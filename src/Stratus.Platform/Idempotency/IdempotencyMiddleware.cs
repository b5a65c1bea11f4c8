using System.Security.Claims;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Stratus.Platform.Auth;
using Stratus.Platform.Http;
using Stratus.Platform.Messaging;
using Stratus.Platform.Regions;

namespace Stratus.Platform.Idempotency;

/// <summary>
/// Makes every write API safe to retry. A POST, PUT, PATCH or DELETE with an Idempotency-Key from a signed-in
/// caller runs once per caller and key: a repeat gets the first response again (with Idempotent-Replayed: true),
/// the key with another request is 409 idempotency-key-reused, and a repeat while the first still runs is 409
/// idempotency-key-in-use. Only a success is kept: a refused or failed request leaves nothing, as it changed
/// nothing, and its retry is evaluated again.
/// </summary>
/// <remarks>
/// A middleware, not an endpoint filter: filters attach to route handlers group by group, so a module that forgot
/// one would silently lack the guarantee, and they run after the body is bound, when the raw body is gone and a
/// replay would still bind and validate it. This runs for every endpoint of every service, after routing (so that
/// endpoint metadata such as <see cref="OwnIdempotencyKey"/> is known) and after authorization (so that the caller
/// is known even where the endpoint's policy names its own scheme, as SCIM's does, and a 401 or 403 reserves nothing).
/// </remarks>
internal sealed partial class IdempotencyMiddleware(
    RequestDelegate next, IServiceScopeFactory scopes, TimeProvider clock, RegionWritability region, IHostApplicationLifetime lifetime,
    ILogger<IdempotencyMiddleware> logger)
{
    public const string Header = "Idempotency-Key";
    public const string ReplayedHeader = "Idempotent-Replayed";
    public const int MaxKeyLength = 128;

    /// <summary>A larger success passes through unrecorded; no write endpoint answers that much (a 5,000-item bulk action is under 1 MiB).</summary>
    public const int MaxStoredResponseBytes = 4 * 1024 * 1024;

    public async Task InvokeAsync(HttpContext context)
    {
        var request = context.Request;
        if (!IsWrite(request.Method) || !request.Headers.TryGetValue(Header, out var values)
            || context.GetEndpoint() is not { } endpoint || endpoint.Metadata.GetMetadata<OwnIdempotencyKey>() is not null
            || context.User.Identity?.IsAuthenticated != true)
        {
            await next(context);
            return;
        }

        var key = values.ToString();
        if (values.Count != 1 || key.Length is 0 or > MaxKeyLength)
        {
            await ProblemWriter.WriteValidationAsync(context, Header, $"The {Header} header must be one value of 1 to {MaxKeyLength} characters.");
            return;
        }

        // Reading the body makes the server's size limit read-only. The endpoint's own (RequestSizeLimit metadata)
        // is already in force, as routing applies it when it picks the endpoint; one that an endpoint would set
        // in its handler must be declared as metadata instead (see the Images upload).
        var fingerprint = await RequestFingerprint.ComputeAsync(request, context.RequestAborted);
        var scope = ScopeOf(context.User);
        var owner = Guid.NewGuid();
        var (reserved, existing) = await ReserveAsync(scope, key, fingerprint, owner, context.RequestAborted);
        if (reserved)
        {
            await RunAsync(context, scope, key, owner);
        }
        else if (existing is not null && existing.Fingerprint != fingerprint.Hash)
        {
            await ProblemWriter.WriteAsync(context, StatusCodes.Status409Conflict, "idempotency-key-reused", "Conflict",
                $"The Idempotency-Key '{key}' was used for another request ({existing.RequestMethod} {existing.RequestPath}); use a new key.");
        }
        else if (existing is { State: IdempotencyState.Completed })
        {
            await ReplayAsync(context, existing);
        }
        else
        {
            context.Response.Headers.RetryAfter = "1";
            await ProblemWriter.WriteAsync(context, StatusCodes.Status409Conflict, "idempotency-key-in-use", "Conflict",
                $"A request with the Idempotency-Key '{key}' is still running; repeat this one in a moment to get its response.");
        }
    }

    private static bool IsWrite(string method) =>
        HttpMethods.IsPost(method) || HttpMethods.IsPut(method) || HttpMethods.IsPatch(method) || HttpMethods.IsDelete(method);

    /// <summary>
    /// The caller's tenant (none for the platform operator) and account. A client without an account, a tenant's
    /// SCIM client, is known by its scheme: one per tenant.
    /// </summary>
    private static string ScopeOf(ClaimsPrincipal user)
    {
        var account = user.FindFirstValue(StratusClaims.Subject) ?? user.Identity?.AuthenticationType ?? "unknown";
        return $"{user.TenantId()?.ToString() ?? "platform"}/{account}";
    }

    /// <summary>
    /// Reserves the key for this request (Reserved), or returns the record that answers it instead; neither when
    /// another request holds it. A store that cannot be reached throws, and ProblemExceptionHandler answers 503.
    /// </summary>
    /// <remarks>
    /// A processing record whose lease lapsed was left by a request whose instance died (or lost the database) while
    /// it ran: a live one renews its lease every 30 s, and it lapses 2 minutes after the last renewal. One reserved
    /// under an older region epoch was left by a region that lost the writable region mid-request (issue 19): it
    /// can neither finish nor release it, so it is taken over at once rather than after the lease. Taking it over
    /// runs the request again. That is safe enough because the only window in which the first run took effect and
    /// its response was not recorded is between the endpoint's commit and the completion of the record, milliseconds
    /// apart; a request repeated from there is refused or absorbed by the natural keys and ids our writes carry (a
    /// user principal name, a tenant's domain, a VM or operation id, an image's concurrency stamp), and at worst a
    /// create without one (a provisioning policy) happens twice, as it would for a retry without a key.
    /// </remarks>
    private async Task<(bool Reserved, IdempotencyRecord? Existing)> ReserveAsync(
        string scope, string key, RequestFingerprint request, Guid owner, CancellationToken cancellationToken)
    {
        await using var services = scopes.CreateAsyncScope();
        var store = StoreIn(services);

        // Reserving is the INSERT, which the unique (scope, key) refuses to all but one; the read first spares
        // the usual repeat a failed statement. A record that vanishes between the two was released by a failed
        // request: try once more, then call the key in use.
        for (var attempt = 0; attempt < 2; attempt++)
        {
            var existing = await store.FindAsync(scope, key, cancellationToken);
            if (existing is null)
            {
                if (await store.TryReserveAsync(scope, key, request, owner, cancellationToken))
                {
                    return (true, null);
                }

                continue;
            }

            if (existing.State == IdempotencyState.Processing && existing.Fingerprint == request.Hash && store.IsAbandoned(existing))
            {
                if (!await store.TryTakeOverAsync(existing, owner, cancellationToken))
                {
                    return (false, null);
                }

                LogTakenOver(logger, key, existing.RequestMethod, existing.RequestPath);
                return (true, null);
            }

            return (false, existing);
        }

        return (false, null);
    }

    /// <summary>
    /// Runs the endpoint with its response held back, records a success (or releases the key after a refusal or
    /// failure), and only then sends the response: a client that saw a success and repeats gets the replay.
    /// </summary>
    private async Task RunAsync(HttpContext context, string scope, string key, Guid owner)
    {
        var serverBody = context.Features.GetRequiredFeature<IHttpResponseBodyFeature>();
        using var buffer = new MemoryStream();
        var bufferedBody = new StreamResponseBodyFeature(buffer);
        context.Features.Set<IHttpResponseBodyFeature>(bufferedBody);
        using var stopRenewing = new CancellationTokenSource();
        var renewing = RenewLeaseAsync(scope, key, owner, stopRenewing.Token);
        try
        {
            await next(context);
            await bufferedBody.CompleteAsync();
        }
        catch
        {
            // ProblemExceptionHandler answers it 500 or 503: a failure, which must not be replayed.
            await ReleaseAsync(scope, key, owner);
            throw;
        }
        finally
        {
            await stopRenewing.CancelAsync();
            await renewing;
            context.Features.Set(serverBody);
        }

        var response = context.Response;
        if (response.StatusCode is >= 200 and < 300 && buffer.Length <= MaxStoredResponseBytes)
        {
            await CompleteAsync(scope, key, owner, response, buffer.ToArray());
        }
        else
        {
            if (response.StatusCode is >= 200 and < 300)
            {
                LogTooLargeToStore(logger, key, buffer.Length);
            }

            await ReleaseAsync(scope, key, owner);
        }

        if (buffer.Length > 0)
        {
            await response.Body.WriteAsync(buffer.GetBuffer().AsMemory(0, (int)buffer.Length), context.RequestAborted);
        }
    }

    /// <summary>Keeps the lease while the request runs; never throws, so that it cannot change the request's outcome.</summary>
    private async Task RenewLeaseAsync(string scope, string key, Guid owner, CancellationToken stop)
    {
        while (true)
        {
            try
            {
                await Task.Delay(IdempotencyStore.LeaseRenewal, clock, stop);
                await using var services = scopes.CreateAsyncScope();
                await StoreIn(services).RenewAsync(scope, key, owner, stop);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return; // The request ended.
            }
            catch (Exception e)
            {
                LogRenewFailed(logger, e, key);
            }
        }
    }

    private async Task CompleteAsync(string scope, string key, Guid owner, HttpResponse response, byte[] body)
    {
        var location = response.Headers.Location.ToString();
        var status = response.StatusCode;
        var contentType = response.ContentType;
        async Task CompleteOnceAsync(IdempotencyStore store)
        {
            // Not the request's token: the change is made, and is recorded even if the client has gone.
            if (await store.CompleteAsync(scope, key, owner, status, contentType, location.Length > 0 ? location : null, body, CancellationToken.None) == 0)
            {
                LogLeaseLost(logger, key);
            }
        }

        try
        {
            await WithStoreAsync(CompleteOnceAsync);
        }
        catch (Exception e)
        {
            // The change is made, so the success is still answered. The store is away (a failover): the record is
            // completed as soon as it is back, and a retry meanwhile is told the key is in use, then gets the replay.
            LogCompleteFailed(logger, e, key);
            _ = Task.Run(() => RetryUntilTheStoreIsBackAsync(key, "recorded the response", CompleteOnceAsync));
        }
    }

    private async Task ReleaseAsync(string scope, string key, Guid owner)
    {
        Task ReleaseOnceAsync(IdempotencyStore store) => store.ReleaseAsync(scope, key, owner, CancellationToken.None);
        try
        {
            await WithStoreAsync(ReleaseOnceAsync);
        }
        catch (Exception e)
        {
            // The store is away (a failover): the key is released as soon as it is back, so that the client's retry
            // runs then rather than being told for the rest of the lease that the key is in use.
            LogReleaseFailed(logger, e, key);
            _ = Task.Run(() => RetryUntilTheStoreIsBackAsync(key, "released the key", ReleaseOnceAsync));
        }
    }

    private async Task WithStoreAsync(Func<IdempotencyStore, Task> action)
    {
        await using var services = scopes.CreateAsyncScope();
        await action(StoreIn(services));
    }

    /// <summary>The store as this request sees it: under the region's current lease epoch (writes run only while it holds one).</summary>
    private IdempotencyStore StoreIn(AsyncServiceScope services) =>
        new(services.ServiceProvider.GetRequiredService<PlatformDbContext>(), clock, region.Current.Epoch);

    /// <summary>Tries again every 1 to 5 s for as long as the lease would hold the key; never throws.</summary>
    private async Task RetryUntilTheStoreIsBackAsync(string key, string done, Func<IdempotencyStore, Task> action)
    {
        var stopping = lifetime.ApplicationStopping;
        var giveUpAt = clock.GetUtcNow() + IdempotencyStore.Lease;
        var delay = TimeSpan.FromSeconds(1);
        while (!stopping.IsCancellationRequested && clock.GetUtcNow() < giveUpAt)
        {
            try
            {
                await Task.Delay(delay, clock, stopping);
                await WithStoreAsync(action);
                LogDoneLater(logger, key, done);
                return;
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception)
            {
                delay = TimeSpan.FromSeconds(Math.Min(5, delay.TotalSeconds * 2));
            }
        }
    }

    private static async Task ReplayAsync(HttpContext context, IdempotencyRecord record)
    {
        var response = context.Response;
        response.StatusCode = record.ResponseStatus ?? StatusCodes.Status200OK;
        response.ContentType = record.ResponseContentType;
        if (record.ResponseLocation is { } location)
        {
            response.Headers.Location = location;
        }

        response.Headers[ReplayedHeader] = "true";
        var body = record.ResponseBody ?? [];
        response.ContentLength = body.Length;
        if (body.Length > 0)
        {
            await response.Body.WriteAsync(body, context.RequestAborted);
        }
    }

    [LoggerMessage(EventId = 1401, Level = LogLevel.Warning,
        Message = "Took over Idempotency-Key {Key} of {Method} {Path}: its lease lapsed (the instance that ran it stopped); running it again")]
    private static partial void LogTakenOver(ILogger logger, string key, string method, string path);

    [LoggerMessage(EventId = 1402, Level = LogLevel.Error, Message = "Recording the response for Idempotency-Key {Key} failed; tried again until the store is back")]
    private static partial void LogCompleteFailed(ILogger logger, Exception exception, string key);

    [LoggerMessage(EventId = 1403, Level = LogLevel.Warning, Message = "Releasing Idempotency-Key {Key} after a refused request failed; tried again until the store is back")]
    private static partial void LogReleaseFailed(ILogger logger, Exception exception, string key);

    [LoggerMessage(EventId = 1407, Level = LogLevel.Information, Message = "Idempotency-Key {Key}: the store is back and {Done}")]
    private static partial void LogDoneLater(ILogger logger, string key, string done);

    [LoggerMessage(EventId = 1404, Level = LogLevel.Warning, Message = "Renewing the lease of Idempotency-Key {Key} failed")]
    private static partial void LogRenewFailed(ILogger logger, Exception exception, string key);

    [LoggerMessage(EventId = 1405, Level = LogLevel.Warning, Message = "The response for Idempotency-Key {Key} ({Bytes} bytes) is too large to keep; a repeat runs the request again")]
    private static partial void LogTooLargeToStore(ILogger logger, string key, long bytes);

    [LoggerMessage(EventId = 1406, Level = LogLevel.Warning, Message = "Idempotency-Key {Key} was taken over by a retry while its request ran; the retry's response is the one kept")]
    private static partial void LogLeaseLost(ILogger logger, string key);
}
