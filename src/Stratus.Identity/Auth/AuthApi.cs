using System.Globalization;
using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Stratus.Platform.Auth;
using Stratus.Platform.Http;

namespace Stratus.Identity.Auth;

public sealed record TokenRequest(string? UserName, string? Password);

public sealed record TokenResponse(string AccessToken, string TokenType, int ExpiresIn);

public sealed record Me(Guid Id, string UserName, Guid? TenantId, IReadOnlyList<string> Roles);

public static class AuthApi
{
    public static IEndpointRouteBuilder MapAuthApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/api/v1/auth").WithTags("Sign-in");
        group.MapPost("/token", IssueTokenAsync).WithName("IssueToken")
            .WithSummary("Exchange a user name and password for a bearer token");
        group.MapPost("/signin", SignInWithCookieAsync).WithName("SignIn")
            .WithSummary("Sign in to the portals: sets the session cookie");
        group.MapPost("/signout", (Func<HttpContext, Task<NoContent>>)SignOutAsync).WithName("SignOut").WithSummary("End the portal session");
        endpoints.MapGet("/api/v1/me", GetMe).WithTags("Sign-in").WithName("GetMe")
            .WithSummary("The signed-in account").RequireAuthorization();
        return endpoints;
    }

    private static async Task<Results<Ok<TokenResponse>, ValidationProblem, ProblemHttpResult>> IssueTokenAsync(
        TokenRequest? request, SignInService signIn, TokenIssuer tokens, HttpContext http, CancellationToken cancellationToken)
    {
        var outcome = await SignInAsync(request, signIn, http, cancellationToken);
        if (outcome.Problem is { } problem)
        {
            return problem;
        }

        if (outcome.Invalid is { } invalid)
        {
            return invalid;
        }

        var token = tokens.Issue(outcome.Identity!);
        return TypedResults.Ok(new TokenResponse(token, "Bearer", (int)TokenIssuer.Lifetime.TotalSeconds));
    }

    private static async Task<Results<NoContent, ValidationProblem, ProblemHttpResult>> SignInWithCookieAsync(
        TokenRequest? request, SignInService signIn, TokenIssuer tokens, HttpContext http, TimeProvider clock, CancellationToken cancellationToken)
    {
        var outcome = await SignInAsync(request, signIn, http, cancellationToken);
        if (outcome.Problem is { } problem)
        {
            return problem;
        }

        if (outcome.Invalid is { } invalid)
        {
            return invalid;
        }

        // The session carries the user's own token: the portal calls the services with it, as its user. The sign-in's
        // time stays in the cookie when it slides, so that a revocation finds the cookie older (ADR 0011).
        var principal = outcome.Identity!.ToPrincipal(CookieAuthenticationDefaults.AuthenticationScheme);
        ((ClaimsIdentity)principal.Identity!).AddClaim(new Claim(StratusClaims.AccessToken, tokens.Issue(outcome.Identity)));
        ((ClaimsIdentity)principal.Identity!).AddClaim(new Claim(CredentialRevocations.AuthTimeClaim,
            clock.GetUtcNow().ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture), ClaimValueTypes.Integer64));
        await http.SignInAsync(CookieAuthenticationDefaults.AuthenticationScheme, principal);
        return TypedResults.NoContent();
    }

    private static async Task<NoContent> SignOutAsync(HttpContext http)
    {
        await http.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
        return TypedResults.NoContent();
    }

    private static Ok<Me> GetMe(HttpContext http)
    {
        var user = http.User;
        return TypedResults.Ok(new Me(user.AccountId(), user.UserName(), user.TenantId(),
            user.FindAll(StratusClaims.Role).Select(c => c.Value).ToList()));
    }

    private sealed record Outcome(AccountIdentity? Identity, ValidationProblem? Invalid, ProblemHttpResult? Problem);

    private static async Task<Outcome> SignInAsync(TokenRequest? request, SignInService signIn, HttpContext http, CancellationToken cancellationToken)
    {
        var validator = new Validator()
            .Require("userName", request?.UserName)
            .Require("password", request?.Password, maxLength: 1024);
        if (!validator.IsValid)
        {
            return new Outcome(null, validator.ToProblem(), null);
        }

        var remoteAddress = http.Connection.RemoteIpAddress?.ToString() ?? "unknown";
        var result = await signIn.SignInAsync(request!.UserName!, request.Password!, remoteAddress, cancellationToken);
        switch (result)
        {
            case SignInResult.Success success:
                return new Outcome(success.Identity, null, null);
            case SignInResult.Throttled throttled:
                http.Response.Headers.RetryAfter = ((int)throttled.RetryAfter.TotalSeconds).ToString(CultureInfo.InvariantCulture);
                return new Outcome(null, null, Problems.TooManyRequests(throttled.Detail));
            case SignInResult.Refused refused:
                return new Outcome(null, null, Problems.Unauthorized(refused.Detail));
            default:
                throw new InvalidOperationException($"Unknown sign-in result {result}");
        }
    }
}
