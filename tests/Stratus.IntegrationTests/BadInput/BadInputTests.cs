using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Xunit.Abstractions;

namespace Stratus.IntegrationTests.BadInput;

/// <summary>
/// Issue 17 item 7, bad input never reaches a 500: every operation of /openapi/v1.json, and of /scim/v2, is sent
/// malformed JSON, empty, null and array bodies, wrong types, strings of 100 KB and 5 MB, JSON nested 10,000
/// deep, control and bidirectional characters, lone surrogates, negative and huge numbers, traversal in ids and
/// odd filters, with and without a token. Each must be a 4xx problem document that stores nothing (no list,
/// resource or audit total changes), and /readyz stays healthy after each.
/// The quick form (CI) sends every deterministic case and 3 random ones per operation; STRATUS_BADINPUT_LONG=1
/// sends 200 random ones per operation. STRATUS_BADINPUT_SEED repeats a run's random cases (its seed is printed on failure).
/// </summary>
public sealed class BadInputTests(BadInputFixture fixture, ITestOutputHelper output) : IClassFixture<BadInputFixture>
{
    private static readonly bool LongForm = Environment.GetEnvironmentVariable("STRATUS_BADINPUT_LONG") == "1";

    private static readonly int Seed = int.TryParse(Environment.GetEnvironmentVariable("STRATUS_BADINPUT_SEED"), CultureInfo.InvariantCulture, out var seed) ? seed : 20261207;

    private static int RandomPerOperation => LongForm ? 200 : 3;

    [Fact]
    public async Task EveryApiOperation_RefusesBadInput_WithA4xxProblem_StoringNothing_StayingReady()
    {
        var document = await fixture.Operator.GetFromJsonAsync<JsonElement>("/openapi/v1.json");
        var operations = OpenApiOperations.Read(document, path => path.StartsWith("/api/", StringComparison.Ordinal));
        Assert.True(operations.Count > 100, $"The OpenAPI document lists only {operations.Count} operations under /api");
        Assert.True(operations.Count(o => o.Body is { Kind: ValueKind.Object, Properties.Count: > 0 }) > 30,
            "The OpenAPI document describes too few request bodies: its request schemas are missing");

        var clients = await BadInputRunner.ChooseClientsAsync(operations, ProbePath, fixture.TenantAdmin, fixture.Operator);
        var reads = operations.Where(o => o.Method == "GET" && o.Parameters.All(p => p.In == ParameterPlace.Query))
            .Select(o => (clients[o], o.PathTemplate, false))
            .Append((fixture.Operator, "/api/v1/auditEvents?$top=1", false))
            .Concat(Seeded("/api/v1/", ["users", "groups", "provisioningPolicies", "userSettings", "tenants"]))
            .ToList();
        await RunAsync(operations, op => clients[op], reads, op => new Samples(BadInputFixture.Domain));
    }

    [Fact]
    public async Task EveryScimOperation_RefusesBadInput_WithA4xxScimError_StoringNothing_StayingReady()
    {
        var document = await fixture.Operator.GetFromJsonAsync<JsonElement>("/openapi/v1.json");
        var documented = OpenApiOperations.Read(document, path => path.StartsWith("/scim/v2/", StringComparison.Ordinal));
        var (operations, schemaByPath) = ScimOperations.Read(documented,
            await fixture.Scim.GetFromJsonAsync<JsonElement>("/scim/v2/ResourceTypes"), await fixture.Scim.GetFromJsonAsync<JsonElement>("/scim/v2/Schemas"));
        Assert.Contains(operations, o => o is { Method: "PATCH", PathTemplate: "/scim/v2/Users/{id}" });

        var reads = new List<(HttpClient, string, bool)>
        {
            (fixture.Scim, "/scim/v2/Users?count=0", false), (fixture.Scim, "/scim/v2/Groups?count=0", false),
            (fixture.TenantAdmin, "/api/v1/auditEvents?$top=1", false), (fixture.Operator, "/api/v1/auditEvents?$top=1", false),
        };
        reads.AddRange(Seeded("/", ["scim/v2/Users", "scim/v2/Groups"]));
        await RunAsync(operations, _ => fixture.Scim, reads, op => new Samples(BadInputFixture.Domain, ScimOperations.SampleOverrides(op, schemaByPath)));
    }

    private async Task RunAsync(IReadOnlyList<Operation> operations, Func<Operation, HttpClient> clientFor, List<(HttpClient, string, bool)> reads, Func<Operation, Samples> samples)
    {
        var elapsed = Stopwatch.StartNew();
        var cases = new BadCases(samples, fixture.IdFor, new Random(Seed), RandomPerOperation);
        var runner = new BadInputRunner(fixture.Stratus.Http, new StoredState(reads), clientFor, fixture.Anonymous);

        var failures = await runner.RunAsync(operations, cases);

        output.WriteLine($"{operations.Count} operations, {runner.Sent} requests in {elapsed.Elapsed.TotalSeconds:0} s (seed {Seed}, {RandomPerOperation} random per operation)");
        Assert.True(failures.Count == 0,
            $"{failures.Count} answers were wrong (seed {Seed}; STRATUS_BADINPUT_SEED={Seed} repeats them):\n" + string.Join("\n", failures.Take(200)));
    }

    private IEnumerable<(HttpClient, string, bool)> Seeded(string prefix, string[] collections) =>
        collections.Select(c => (c.StartsWith("scim", StringComparison.Ordinal) ? fixture.Scim : c == "tenants" ? fixture.Operator : fixture.TenantAdmin,
            $"{prefix}{c}/{fixture.Existing[c]}", true));

    private static string ProbePath(Operation operation) =>
        operation.Parameters.Where(p => p.In == ParameterPlace.Path)
            .Aggregate(operation.PathTemplate, (path, p) => path.Replace("{" + p.Name + "}", Guid.NewGuid().ToString(), StringComparison.Ordinal));
}
