using System.CommandLine;
using System.Text.Json.Nodes;

namespace Stratus.Client;

/// <summary>
/// `stratus alert rules|update|records|resolve|deliveries`: the alert rules of the signed-in administrator's tenant
/// (the platform's, for the operator), their records and their notifications' delivery log (issue 21).
/// </summary>
internal static partial class ClientCommands
{
    private const string AlertRulesPath = "/api/v1/alertRules";
    private const string AlertRecordsPath = "/api/v1/alertRecords";

    private static Command Alert()
    {
        var command = new Command("alert", "Alert rules, the records they open and their e-mail and webhook notifications.");
        command.Subcommands.Add(AlertRules());
        command.Subcommands.Add(AlertUpdate());
        command.Subcommands.Add(AlertRecords());
        command.Subcommands.Add(AlertResolve());
        command.Subcommands.Add(AlertDeliveries());
        return command;
    }

    private static Command AlertRules()
    {
        var output = OutputOption();
        var rules = new Command("rules", "The built-in rules: on or off, severity, threshold and channels.") { output };
        rules.SetAction((result, cancellationToken) => RunAsync(async () =>
        {
            using var client = ApiClient.SignedIn();
            var page = await client.GetAsync(AlertRulesPath, cancellationToken);
            foreach (var row in page["value"]!.AsArray())
            {
                row!["target"] = row["threshold"]?["target"]?.DeepClone();
                row["channels"] = string.Join(", ", row["notificationChannels"]!.AsArray().Select(c => c!["notificationChannelType"]!.GetValue<string>()));
            }

            Print(result.GetValue(output)!, page, page["value"]!.AsArray(), ["displayName", "alertRuleTemplate", "enabled", "severity", "target", "channels", "id"]);
        }));
        return rules;
    }

    private static Command AlertUpdate()
    {
        var id = new Argument<Guid>("id") { Description = "The rule's id (see 'stratus alert rules')." };
        var enabled = new Option<bool?>("--enabled") { Description = "true or false." };
        var severity = new Option<string?>("--severity") { Description = "unknown, informational, warning or critical." };
        var target = new Option<int?>("--target") { Description = "Open a record when at least this many are impacted." };
        var email = new Option<string[]>("--email") { Description = "An address to e-mail (repeat for several); replaces the rule's.", AllowMultipleArgumentsPerToken = true };
        var noEmail = new Option<bool>("--no-email") { Description = "Send no e-mail." };
        var webhookUrl = new Option<string?>("--webhook-url") { Description = "An http(s) URL to POST each change to, signed." };
        var webhookSecret = new Option<string?>("--webhook-secret") { Description = "The webhook's signing secret (16 to 256 characters); needed with a new URL." };
        var noWebhook = new Option<bool>("--no-webhook") { Description = "Call no webhook." };
        var output = OutputOption();
        var update = new Command("update", "Change a rule; only the options given change.")
            { id, enabled, severity, target, email, noEmail, webhookUrl, webhookSecret, noWebhook, output };
        update.SetAction((result, cancellationToken) => RunAsync(async () =>
        {
            using var client = ApiClient.SignedIn();
            var path = $"{AlertRulesPath}/{result.GetValue(id)}";
            var changes = new JsonObject();
            if (result.GetValue(enabled) is { } on)
            {
                changes["enabled"] = on;
            }

            if (result.GetValue(severity) is { } level)
            {
                changes["severity"] = level;
            }

            if (result.GetValue(target) is { } count)
            {
                changes["threshold"] = new JsonObject { ["target"] = count };
            }

            var emails = result.GetValue(email) ?? [];
            if (emails.Length > 0 || result.GetValue(noEmail) || result.GetValue(webhookUrl) is not null || result.GetValue(noWebhook))
            {
                // The API replaces the channels as a whole: start from the rule's and change what was asked.
                var rule = await client.GetAsync(path, cancellationToken);
                var channels = new JsonArray { new JsonObject { ["notificationChannelType"] = "portal" } };
                var current = rule["notificationChannels"]!.AsArray();
                var currentEmail = current.FirstOrDefault(c => c!["notificationChannelType"]!.GetValue<string>() == "email");
                var currentHook = current.FirstOrDefault(c => c!["notificationChannelType"]!.GetValue<string>() == "webhook");
                if (!result.GetValue(noEmail) && (emails.Length > 0 || currentEmail is not null))
                {
                    var receivers = emails.Length > 0
                        ? new JsonArray(emails.Select(e => (JsonNode)new JsonObject { ["contactInformation"] = e }).ToArray())
                        : currentEmail!["notificationReceivers"]!.DeepClone().AsArray();
                    channels.Add(new JsonObject { ["notificationChannelType"] = "email", ["notificationReceivers"] = receivers });
                }

                if (!result.GetValue(noWebhook) && (result.GetValue(webhookUrl) is not null || currentHook is not null))
                {
                    channels.Add(new JsonObject
                    {
                        ["notificationChannelType"] = "webhook",
                        ["url"] = result.GetValue(webhookUrl) ?? currentHook!["url"]!.GetValue<string>(),
                        ["secret"] = result.GetValue(webhookSecret),
                    });
                }

                changes["notificationChannels"] = channels;
            }

            if (changes.Count == 0)
            {
                throw new ClientException("nothing to change: give at least one of --enabled, --severity, --target, --email, --no-email, --webhook-url, --no-webhook.");
            }

            var updated = await client.SendAsync(HttpMethod.Patch, path, changes, cancellationToken);
            PrintObject(result.GetValue(output)!, updated);
        }));
        return update;
    }

    private static Command AlertRecords()
    {
        var status = new Option<string?>("--status") { Description = "active or resolved; all when left out." };
        var top = new Option<int>("--top") { Description = "How many, newest first.", DefaultValueFactory = _ => 50 };
        var output = OutputOption();
        var records = new Command("records", "Alert records, newest first.") { status, top, output };
        records.SetAction((result, cancellationToken) => RunAsync(async () =>
        {
            using var client = ApiClient.SignedIn();
            var filter = result.GetValue(status) is { } s ? $"&$filter={Uri.EscapeDataString($"status eq '{s}'")}" : "";
            var page = await client.GetAsync($"{AlertRecordsPath}?$top={result.GetValue(top)}{filter}", cancellationToken);
            foreach (var row in page["value"]!.AsArray())
            {
                row!["impacted"] = row["alertImpact"]?["value"]?.DeepClone();
            }

            Print(result.GetValue(output)!, page, page["value"]!.AsArray(),
                ["displayName", "severity", "status", "impacted", "detectedDateTime", "resolvedDateTime", "detail", "alertRecordId"]);
        }));
        return records;
    }

    private static Command AlertResolve()
    {
        var id = new Argument<Guid>("id") { Description = "The record's id (see 'stratus alert records')." };
        var output = OutputOption();
        var resolve = new Command("resolve", "Resolve an active record by hand; new impacts open a new one.") { id, output };
        resolve.SetAction((result, cancellationToken) => RunAsync(async () =>
        {
            using var client = ApiClient.SignedIn();
            var record = await client.PostAsync($"{AlertRecordsPath}/{result.GetValue(id)}/changeStatus", new { status = "resolved" }, cancellationToken);
            PrintObject(result.GetValue(output)!, record);
        }));
        return resolve;
    }

    private static Command AlertDeliveries()
    {
        var id = new Argument<Guid>("id") { Description = "The rule's id." };
        var output = OutputOption();
        var deliveries = new Command("deliveries", "A rule's notifications, newest first, with their attempts.") { id, output };
        deliveries.SetAction((result, cancellationToken) => RunAsync(async () =>
        {
            using var client = ApiClient.SignedIn();
            var page = await client.GetAsync($"{AlertRulesPath}/{result.GetValue(id)}/deliveries", cancellationToken);
            Print(result.GetValue(output)!, page, page["value"]!.AsArray(),
                ["channel", "target", "status", "attempts", "createdDateTime", "deliveredDateTime", "lastError", "alertRecordId"]);
        }));
        return deliveries;
    }
}
