using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text.Json;
using Stratus.IntegrationTests.Cli;
using Stratus.IntegrationTests.Support;
using Stratus.Testing;

namespace Stratus.IntegrationTests.Gateway;

/// <summary>
/// Issue 21 items 2 and 3 on the real gateway and a real QEMU display: a console session and a refused ticket appear
/// in the Cloud PC's connection history and the session's round-trip times in the connection quality report, for
/// the tenant only; the reports refuse a query they do not understand, naming the parameter.
/// </summary>
public sealed partial class ConsoleTests
{
    [Fact]
    public async Task A_console_session_and_a_refused_ticket_appear_in_the_connection_history_and_the_reports_of_the_tenant_only()
    {
        var ticket = await TicketAsync(fixture.Ada, $"/api/v1/me/cloudPCs/{fixture.PcId}/connect");
        var sessionId = ticket.GetProperty("sessionId").GetGuid();
        var url = SocketUrl(ticket);
        using (var console = await OpenDisplayAsync(url))
        {
            for (var i = 0; i < 3; i++)
            {
                await SampleAsync(fixture.Ada, sessionId);
            }

            // The operator's gauge counts it while it is open, and not once it is closed.
            var whileOpen = await Eventually.MatchesAsync(OpenConsolesAsync, n => n >= 1, "the open console in stratus_gateway_open_consoles", TimeSpan.FromSeconds(60));
            await console.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None);
            await Eventually.MatchesAsync(OpenConsolesAsync, n => n == whileOpen - 1, "the closed console to leave stratus_gateway_open_consoles", TimeSpan.FromSeconds(60));
        }

        // The same ticket again: refused as used, and that refusal is an attempt of its own.
        var (status, _) = await fixture.RefusalAsync(url);
        Assert.Equal(HttpStatusCode.Forbidden, status);

        var history = $"/api/v1/cloudPCs/{fixture.PcId}/connectionHistory";
        var attempts = await Eventually.MatchesAsync(async () => await ValueAsync(fixture.Admin, history),
            a => a.Any(x => x.GetProperty("id").GetGuid() == sessionId && x.GetProperty("outcome").GetString() == "closedByUser")
                && a.Any(x => x.GetProperty("outcome").GetString() == "refused" && x.GetProperty("reason").GetString() == "console-ticket-used"),
            "the closed session and the refused replay in the admin's history");
        var session = attempts.Single(x => x.GetProperty("id").GetGuid() == sessionId);
        Assert.Equal(fixture.AdaId, session.GetProperty("userId").GetGuid());
        Assert.Equal("closedByUser", session.GetProperty("reason").GetString());
        Assert.False(string.IsNullOrEmpty(session.GetProperty("gatewayInstance").GetString()), "the instance that served it is named");
        Assert.True(session.GetProperty("durationSeconds").GetDouble() >= 0);
        Assert.Equal(3, session.GetProperty("roundTripTimes").GetProperty("count").GetInt32());
        Assert.Equal(3, session.GetProperty("roundTripTimes").GetProperty("samples").GetArrayLength());
        var refused = attempts.First(x => x.GetProperty("reason").GetString() == "console-ticket-used");
        Assert.Equal(fixture.AdaId, refused.GetProperty("userId").GetGuid());
        Assert.Contains("Connect again", refused.GetProperty("detail").GetString(), StringComparison.Ordinal);
        var starts = attempts.Select(a => a.GetProperty("startDateTime").GetDateTimeOffset()).ToList();
        Assert.Equal(starts.OrderDescending().ToList(), starts);

        // Ada sees her own attempts; Bob's route finds no Cloud PC of his, nor does another tenant's administrator.
        Assert.Contains(await ValueAsync(fixture.Ada, $"/api/v1/me/cloudPCs/{fixture.PcId}/connectionHistory"), x => x.GetProperty("id").GetGuid() == sessionId);
        await ProblemAssert.IsProblemAsync(await fixture.Bob.GetAsync($"/api/v1/me/cloudPCs/{fixture.PcId}/connectionHistory"), HttpStatusCode.NotFound);
        await ProblemAssert.IsProblemAsync(await fixture.OtherOperator.GetAsync(history), HttpStatusCode.NotFound);
        await ProblemAssert.IsProblemAsync(await fixture.Bob.GetAsync(history), HttpStatusCode.Forbidden);

        // The quality report has today's row of the Cloud PC, from its samples; the other tenant's report has none.
        var quality = $"/api/v1/reports/connectionQuality?$filter=cloudPcId eq '{fixture.PcId}'";
        var row = (await ValueAsync(fixture.Admin, quality)).First();
        Assert.Equal(fixture.PcId, row.GetProperty("cloudPcId").GetGuid());
        Assert.True(row.GetProperty("sampleCount").GetInt32() >= 3);
        var p50 = row.GetProperty("p50Milliseconds").GetDouble();
        Assert.True(row.GetProperty("p95Milliseconds").GetDouble() >= p50);
        Assert.Equal(p50 < 100 ? "good" : p50 <= 200 ? "average" : "high", row.GetProperty("qualityCategory").GetString());
        Assert.Empty(await ValueAsync(fixture.OtherOperator, quality));

        // Utilization: the Cloud PC was connected, so it is not "never connected".
        var use = (await ValueAsync(fixture.Admin, $"/api/v1/reports/utilization?$filter=cloudPcId eq '{fixture.PcId}'")).Single();
        Assert.True(use.GetProperty("sessionCount").GetInt32() >= 1);
        Assert.NotEqual("neverConnected", use.GetProperty("utilizationCategory").GetString());
        Assert.Empty(await ValueAsync(fixture.OtherOperator, $"/api/v1/reports/utilization?$filter=cloudPcId eq '{fixture.PcId}'"));

        // CSV, by ?format=csv and by Accept: a header, then the same row.
        var csv = await fixture.Admin.GetStringAsync(quality + "&format=csv");
        var lines = csv.Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("cloudPcId,date,sessionCount,sampleCount,p50Milliseconds,p95Milliseconds,qualityCategory", lines[0]);
        Assert.StartsWith(fixture.PcId.ToString(), lines[1], StringComparison.Ordinal);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/reports/utilization");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/csv"));
        using var byAccept = await fixture.Admin.SendAsync(request);
        Assert.Equal("text/csv", byAccept.Content.Headers.ContentType?.MediaType);
        Assert.Contains(fixture.PcId.ToString(), await byAccept.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // The same from the CLI: the report as CSV, the history as JSON.
        using var config = new TempFolder();
        await ClientCli.CheckedAsync(config.Path, ["login", "--url", fixture.Stratus.BaseAddress.ToString().TrimEnd('/'), "--user", $"admin@{fixture.Domain}"],
            new() { ["STRATUS_PASSWORD"] = ConsoleFixture.AdminPassword });
        var cliCsv = (await ClientCli.CheckedAsync(config.Path, ["report", "connectionQuality", "--csv", "--filter", $"cloudPcId eq '{fixture.PcId}'"])).StandardOutput;
        Assert.Equal(lines[0], cliCsv.Split('\n')[0].TrimEnd('\r'));
        Assert.Contains(fixture.PcId.ToString(), cliCsv, StringComparison.Ordinal);
        var cliHistory = JsonDocument.Parse((await ClientCli.CheckedAsync(config.Path, ["cloudpc", "history", fixture.PcId.ToString(), "-o", "json"])).StandardOutput);
        Assert.Contains(cliHistory.RootElement.GetProperty("value").EnumerateArray(), x => x.GetProperty("id").GetGuid() == sessionId);
        var cliBad = await ClientCli.RunAsync(config.Path, ["report", "utilization", "--orderby", "nothing"]);
        Assert.NotEqual(0, cliBad.ExitCode);
        Assert.Contains("$orderby", cliBad.StandardError, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("connectionQuality?$filter=userName eq 'ada'", "$filter", "cannot filter on 'userName'")]
    [InlineData("connectionQuality?$filter=p50Milliseconds gt 100", "$filter", "cannot be read")]
    [InlineData("utilization?$orderby=nothing desc", "$orderby", "must be one of")]
    [InlineData("utilization?$orderby=hoursConnected sideways", "$orderby", "must be one of")]
    [InlineData("utilization?$top=5000", "$top", "between 1 and 1000")]
    [InlineData("utilization?$top=many", "$top", "whole number")]
    [InlineData("connectionQuality?$skip=-1", "$skip", "0 or more")]
    public async Task A_report_query_it_does_not_understand_is_400_naming_the_parameter(string query, string parameter, string says)
    {
        var problem = await ProblemAssert.IsProblemAsync(await fixture.Admin.GetAsync("/api/v1/reports/" + query), HttpStatusCode.BadRequest);
        var errors = problem.GetProperty("errors").GetProperty(parameter);
        Assert.Contains(says, errors[0].GetString(), StringComparison.Ordinal);
    }

    private static async Task<List<JsonElement>> ValueAsync(HttpClient client, string path)
    {
        var response = await client.GetAsync(path);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return [.. (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("value").EnumerateArray()];
    }

    /// <summary>The gauge's value on /metrics (Prometheus text), 0 before the first console.</summary>
    private async Task<double> OpenConsolesAsync()
    {
        var text = await fixture.Stratus.Http.GetStringAsync("/metrics");
        var line = text.Split('\n').FirstOrDefault(l => l.StartsWith("stratus_gateway_open_consoles", StringComparison.Ordinal));
        // "name{labels} value [timestamp]": the value is the first word after the labels.
        return line is null ? 0 : double.Parse(line[(line.IndexOf('}', StringComparison.Ordinal) + 1)..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
    }
}
