using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Stratus.IntegrationTests.BadInput;

/// <summary>What a reader of the store can see: a count or a digest per list or resource, and the audit's totals.</summary>
internal sealed record StoredState(IReadOnlyList<(HttpClient Client, string Path, bool WholeBody)> Reads)
{
    /// <summary>
    /// The state once it holds still: audit records and directory copies arrive through the durable queues a
    /// moment after the request that caused them, so a capture is repeated until two in a row, <paramref name="quiet"/>
    /// apart (300 ms unless given), agree (at most 60 s).
    /// </summary>
    public async Task<string> SettledAsync(TimeSpan? quiet = null)
    {
        var elapsed = System.Diagnostics.Stopwatch.StartNew();
        var last = await CaptureAsync();
        while (true)
        {
            await Task.Delay(quiet ?? TimeSpan.FromMilliseconds(300));
            var now = await CaptureAsync();
            if (now == last || elapsed.Elapsed > TimeSpan.FromSeconds(60))
            {
                return now;
            }

            last = now;
        }
    }

    private async Task<string> CaptureAsync()
    {
        var lines = new StringBuilder();
        foreach (var (client, path, wholeBody) in Reads)
        {
            using var response = await client.GetAsync(path);
            var text = await response.Content.ReadAsStringAsync();
            lines.Append(path).Append(' ').Append((int)response.StatusCode).Append(' ')
                .AppendLine(wholeBody ? Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text))) : Count(text));
        }

        return lines.ToString();
    }

    /// <summary>totalCount of a page (the audit's counts every entry), the length of a list, or of SCIM's Resources.</summary>
    private static string Count(string text)
    {
        try
        {
            var root = JsonDocument.Parse(text).RootElement;
            return root.ValueKind switch
            {
                JsonValueKind.Array => root.GetArrayLength().ToString(System.Globalization.CultureInfo.InvariantCulture),
                JsonValueKind.Object when root.TryGetProperty("totalCount", out var total) => total.ToString(),
                JsonValueKind.Object when root.TryGetProperty("totalResults", out var results) => results.ToString(),
                JsonValueKind.Object when root.TryGetProperty("value", out var value) && value.ValueKind == JsonValueKind.Array => value.GetArrayLength().ToString(System.Globalization.CultureInfo.InvariantCulture),
                _ => "-",
            };
        }
        catch (JsonException)
        {
            return "not JSON";
        }
    }
}

/// <summary>
/// Sends the cases of each operation and checks every answer: a 4xx problem document for input that must be
/// refused (RFC 9457 application/problem+json, or SCIM's Error schema under /scim), never a 5xx for any;
/// the stored state unchanged by the refused ones; /readyz healthy after each.
/// </summary>
internal sealed class BadInputRunner(HttpClient health, StoredState state, Func<Operation, HttpClient> clientFor, HttpClient anonymous)
{
    public const string ScimError = "urn:ietf:params:scim:api:messages:2.0:Error";

    public int Sent { get; private set; }

    /// <param name="failures">Where wrong answers go; null on a second pass, which only looks at the stored state.</param>
    private async Task<(string Before, string After)> RefuseAllAsync(Operation operation, List<BadCase> all, List<string>? failures, TimeSpan? quiet)
    {
        var before = await state.SettledAsync(quiet);
        foreach (var refused in all.Where(c => c.Expect == Expect.Refused))
        {
            await SendAsync(operation, refused, failures ?? []);
        }

        return (before, await state.SettledAsync(quiet));
    }

    public async Task<List<string>> RunAsync(IEnumerable<Operation> operations, BadCases cases)
    {
        var failures = new List<string>();
        foreach (var operation in operations)
        {
            var all = cases.For(operation).ToList();
            var (before, after) = await RefuseAllAsync(operation, all, failures, quiet: null);
            if (after != before)
            {
                // On a busy machine an accepted request's audit record can come later than the 300 ms a settled state
                // is watched for, and land between these two captures: the same cases again, watched for 3 s each
                // time, tell such a straggler from a refused request that stored something (which stores again).
                (before, after) = await RefuseAllAsync(operation, all, failures: null, quiet: TimeSpan.FromSeconds(3));
            }

            if (after != before)
            {
                failures.Add($"{operation}: refused requests changed what is stored:\n  before: {Changed(before, after)}\n  after:  {Changed(after, before)}");
            }

            // Input a server may take (a null to leave a field as it is) last: what it changes is not a refused request's doing.
            foreach (var accepted in all.Where(c => c.Expect == Expect.NoServerError))
            {
                await SendAsync(operation, accepted, failures);
            }
        }

        return failures;
    }

    private async Task SendAsync(Operation operation, BadCase c, List<string> failures)
    {
        using var request = new HttpRequestMessage(new HttpMethod(c.Method), c.Path);
        if (c.RawBody is { } raw || c.Body is not null)
        {
            request.Content = new ByteArrayContent(c.RawBody ?? Encoding.UTF8.GetBytes(c.Body!));
            request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(c.ContentType ?? "application/json");

            // As a careful client sends a big body: the server refuses it (413) before it is sent, instead of
            // closing the connection on a client still writing, which no client reads an answer from.
            request.Headers.ExpectContinue = request.Content.Headers.ContentLength > 1024 * 1024;
        }

        Sent++;
        var client = c.WithToken ? clientFor(operation) : anonymous;
        string? failure;
        try
        {
            using var response = await client.SendAsync(request);
            failure = await CheckAsync(c, response);
        }
        catch (HttpRequestException e)
        {
            failure = $"the connection failed: {e.Message}";
        }

        if (failure is not null)
        {
            failures.Add($"{c}: {failure}");
        }

        using var ready = await health.GetAsync("/readyz");
        if (ready.StatusCode != HttpStatusCode.OK)
        {
            failures.Add($"{c}: /readyz answered {(int)ready.StatusCode} after it: {await ready.Content.ReadAsStringAsync()}");
        }
    }

    /// <summary>Why an answer is wrong for the case, or null.</summary>
    private static async Task<string?> CheckAsync(BadCase c, HttpResponseMessage response)
    {
        var status = (int)response.StatusCode;
        var body = await response.Content.ReadAsStringAsync();
        var shown = $"{status}: {body[..Math.Min(body.Length, 400)]}";
        if (status >= 500 || (c.Expect == Expect.Refused && status is < 400 or >= 500))
        {
            return $"answered {shown}";
        }

        if (status < 400)
        {
            return null;
        }

        // Kestrel refuses a request line with a NUL (%00) in its path before any of Stratus runs: a bare 400.
        if (status == 400 && body.Length == 0 && c.Path.Contains("%00", StringComparison.Ordinal))
        {
            return null;
        }

        var scim = c.Path.StartsWith("/scim/", StringComparison.Ordinal);
        var media = response.Content.Headers.ContentType?.MediaType;
        if (media != (scim ? "application/scim+json" : "application/problem+json"))
        {
            return $"answered {shown} as {media ?? "no content type"}, not a problem document";
        }

        try
        {
            var problem = JsonDocument.Parse(body).RootElement;
            if (scim)
            {
                var isError = problem.TryGetProperty("schemas", out var schemas) && schemas.ValueKind == JsonValueKind.Array
                    && schemas.EnumerateArray().Any(s => s.GetString() == ScimError);
                return isError && problem.GetProperty("status").GetString() == status.ToString(System.Globalization.CultureInfo.InvariantCulture)
                    && (status != 400 || problem.TryGetProperty("scimType", out _))
                    ? null
                    : $"answered {shown}: not a SCIM error with its status (and a scimType for a 400)";
            }

            return problem.TryGetProperty("status", out var s) && s.GetInt32() == status && problem.TryGetProperty("title", out _)
                ? null
                : $"answered {shown}: the problem has no matching status or no title";
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or KeyNotFoundException)
        {
            return $"answered {shown}: the body is not a problem document ({e.Message})";
        }
    }

    private static string Changed(string these, string others)
    {
        var other = others.Split('\n').ToHashSet();
        return string.Join("; ", these.Split('\n').Where(line => !other.Contains(line)));
    }

    /// <summary>Which client an operation is sent with: the tenant's administrator where it may call it, else the operator.</summary>
    public static async Task<Dictionary<Operation, HttpClient>> ChooseClientsAsync(IEnumerable<Operation> operations, Func<Operation, string> probePath,
        HttpClient tenantAdmin, HttpClient platformOperator)
    {
        var chosen = new Dictionary<Operation, HttpClient>();
        foreach (var operation in operations)
        {
            // The probe runs nothing: a GET of a new id, or a write whose Idempotency-Key is refused before its handler.
            using var probe = new HttpRequestMessage(new HttpMethod(operation.Method), probePath(operation));
            probe.Headers.Add("Idempotency-Key", new string('k', 200));
            using var response = await tenantAdmin.SendAsync(probe);
            chosen[operation] = response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden ? platformOperator : tenantAdmin;
        }

        return chosen;
    }
}
