using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using Spectre.Console;

namespace Stratus.Client;

/// <summary>
/// `stratus login`, `stratus cloudpc ...`, `stratus policy ...`, `stratus user ...`, `stratus tenant ...`,
/// `stratus group ...`, `stratus image ...`: the public API from a terminal. Tables by default, --output json for scripts, a progress
/// display while an action runs with --wait.
/// </summary>
internal static partial class ClientCommands
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    private static readonly string[] CloudPcActions = ["reboot", "reprovision", "power-on", "power-off", "end-grace-period", "retry"];

    public static IEnumerable<Command> Create() => [Login(), CloudPc(), Policy(), User(), Group(), Tenant(), Image(), Region(), Network(), Report(), Alert()];

    private static Command Login()
    {
        var url = new Option<string>("--url") { Description = "The Stratus API, for example http://127.0.0.1:8080.", DefaultValueFactory = _ => "http://127.0.0.1:8080" };
        var user = new Option<string>("--user") { Description = "Your user name (operator, or name@tenant-domain).", Required = true };
        var passwordStdin = new Option<bool>("--password-stdin") { Description = "Read the password from standard input even when STRATUS_PASSWORD is set." };
        var certificateHash = new Option<string?>("--cert-hash")
        {
            Description = "Trust only the server whose certificate (or a CA in its chain) has this pin, sha256:HEX as `stratus up --tls` prints it; kept for the other commands.",
        };
        var command = new Command("login", "Sign in and keep the session for the other client commands.") { url, user, passwordStdin, certificateHash };
        command.SetAction((result, cancellationToken) => RunAsync(async () =>
        {
            if (!Uri.TryCreate(result.GetValue(url), UriKind.Absolute, out var api))
            {
                throw new ClientException("--url must be an http(s) URL, for example http://127.0.0.1:8080.");
            }

            var pin = result.GetValue(certificateHash) is { } hash ? PinnedServer.Parse(hash, "--cert-hash") : null;
            if (pin is not null && api.Scheme != Uri.UriSchemeHttps)
            {
                throw new ClientException($"--cert-hash pins an HTTPS server: --url {api} is plain HTTP.");
            }

            var password = await ReadPasswordAsync(result.GetValue(passwordStdin), cancellationToken);
            if (string.IsNullOrEmpty(password))
            {
                throw new ClientException("no password: type it at the prompt, pass it on standard input, or set STRATUS_PASSWORD.");
            }

            using var client = ApiClient.Anonymous(api, pin);
            var token = await client.PostAsync("/api/v1/auth/token", new { userName = result.GetValue(user), password }, cancellationToken);
            new Credentials(api, result.GetValue(user)!, token["accessToken"]!.GetValue<string>(),
                TimeProvider.System.GetUtcNow().AddSeconds(token["expiresIn"]?.GetValue<int>() ?? 3600), pin?.Pin.Value).Save();
            Console.WriteLine($"Signed in to {api} as {result.GetValue(user)} (session kept in {Credentials.FilePath}).");
        }));
        return command;
    }

    /// <summary>
    /// The password of `stratus login`: STRATUS_PASSWORD when set (unless --password-stdin), else the first line of
    /// standard input when it is a pipe or a file, else a prompt in the terminal that does not echo what is typed.
    /// </summary>
    private static async Task<string?> ReadPasswordAsync(bool fromStdin, CancellationToken cancellationToken)
    {
        if (!fromStdin && Environment.GetEnvironmentVariable("STRATUS_PASSWORD") is { } fromEnvironment)
        {
            return fromEnvironment;
        }

        if (fromStdin || Console.IsInputRedirected)
        {
            return (await Console.In.ReadLineAsync(cancellationToken))?.TrimEnd('\r', '\n');
        }

        return await AnsiConsole.PromptAsync(new TextPrompt<string>("Password:").Secret(), cancellationToken);
    }

    private static Command CloudPc()
    {
        var command = new Command("cloudpc", "List, show and act on Cloud PCs.");
        var filter = new Option<string?>("--filter") { Description = "An OData filter, for example \"status eq 'failed'\"." };
        var top = new Option<int?>("--top") { Description = "At most this many." };
        var output = OutputOption();
        var list = new Command("list", "The tenant's Cloud PCs.") { filter, top, output };
        list.SetAction((result, cancellationToken) => RunAsync(async () =>
        {
            using var client = ApiClient.SignedIn();
            var query = new List<string>();
            if (result.GetValue(filter) is { } f)
            {
                query.Add("$filter=" + Uri.EscapeDataString(f));
            }

            if (result.GetValue(top) is { } t)
            {
                query.Add($"$top={t}");
            }

            var page = await client.GetAsync("/api/v1/cloudPCs" + (query.Count > 0 ? "?" + string.Join('&', query) : ""), cancellationToken);
            Print(result.GetValue(output)!, page, page["value"]!.AsArray(), ["managedDeviceName", "userPrincipalName", "status", "powerState", "servicePlanName", "regionName", "id"]);
        }));
        command.Subcommands.Add(list);

        var id = new Argument<Guid>("id") { Description = "The Cloud PC's id." };
        var showOutput = OutputOption();
        var show = new Command("show", "One Cloud PC.") { id, showOutput };
        show.SetAction((result, cancellationToken) => RunAsync(async () =>
        {
            using var client = ApiClient.SignedIn();
            var pc = await client.GetAsync($"/api/v1/cloudPCs/{result.GetValue(id)}", cancellationToken);
            PrintObject(result.GetValue(showOutput)!, pc);
        }));
        command.Subcommands.Add(show);

        foreach (var action in CloudPcActions)
        {
            command.Subcommands.Add(ActionCommand(action, $"{action.Replace('-', ' ')} a Cloud PC.", _ => null));
        }

        var name = new Option<string>("--name") { Description = "The new display name.", Required = true };
        command.Subcommands.Add(ActionCommand("rename", "Rename a Cloud PC.", r => new { displayName = r.GetValue(name) }, name));
        var plan = new Option<Guid>("--plan") { Description = "The target service plan's id (see /api/v1/servicePlans).", Required = true };
        command.Subcommands.Add(ActionCommand("resize", "Move a Cloud PC to another plan (takes a free license of it).", r => new { targetServicePlanId = r.GetValue(plan) }, plan));

        var pointsId = new Argument<Guid>("id") { Description = "The Cloud PC's id." };
        var pointsOutput = OutputOption();
        var points = new Command("snapshots", "A Cloud PC's restore points, newest first.") { pointsId, pointsOutput };
        points.SetAction((result, cancellationToken) => RunAsync(async () =>
        {
            using var client = ApiClient.SignedIn();
            var list = await client.GetAsync($"/api/v1/cloudPCs/{result.GetValue(pointsId)}/snapshots", cancellationToken);
            Print(result.GetValue(pointsOutput)!, list, list["value"]!.AsArray(), ["createdDateTime", "snapshotType", "retention", "status", "expirationDateTime", "lastRestoredDateTime", "id"]);
        }));
        command.Subcommands.Add(points);
        command.Subcommands.Add(ActionCommand("create-snapshot", "Take a manual restore point now (it replaces the previous manual one, and lasts 28 days).", _ => null));
        var snapshot = new Option<Guid>("--snapshot") { Description = "The restore point's id (see `stratus cloudpc snapshots ID`).", Required = true };
        command.Subcommands.Add(ActionCommand("restore", "Return a Cloud PC's disk to a restore point; what changed since is lost.", r => new { cloudPcSnapshotId = r.GetValue(snapshot) }, snapshot));
        var exported = new Option<Guid>("--snapshot") { Description = "The restore point's id (see `stratus cloudpc snapshots ID`).", Required = true };
        command.Subcommands.Add(ActionCommand("export-snapshot", "Write a restore point as a standalone qcow2 file into the export folder.", _ => null, r => $"snapshots/{r.GetValue(exported)}/export", exported));
        command.Subcommands.Add(DisasterRecovery());
        command.Subcommands.Add(Troubleshoot());
        command.Subcommands.Add(CloudPcHistory());
        return command;
    }

    private static Command ActionCommand(string action, string description, Func<ParseResult, object?> body, params Option[] extra) =>
        ActionCommand(action, description, body, null, extra);

    /// <param name="path">The action's path under the Cloud PC, when it is not the action's own name.</param>
    private static Command ActionCommand(string action, string description, Func<ParseResult, object?> body, Func<ParseResult, string>? path, params Option[] extra)
    {
        var id = new Argument<Guid>("id") { Description = "The Cloud PC's id." };
        var wait = new Option<bool>("--wait") { Description = "Wait until the action completes, showing its progress." };
        var output = OutputOption();
        var command = new Command(action, description) { id, wait, output };
        foreach (var option in extra)
        {
            command.Options.Add(option);
        }

        var apiAction = string.Concat(action.Split('-').Select((part, i) => i == 0 ? part : char.ToUpperInvariant(part[0]) + part[1..]));
        command.SetAction((result, cancellationToken) => RunAsync(async () =>
        {
            using var client = ApiClient.SignedIn();
            var pcId = result.GetValue(id);
            var operation = await client.PostAsync($"/api/v1/cloudPCs/{pcId}/{path?.Invoke(result) ?? apiAction}", body(result) ?? new { }, cancellationToken);
            if (result.GetValue(wait))
            {
                operation = await WaitAsync(client, pcId, operation, action, result.GetValue(output) == "json", cancellationToken);
            }

            if (result.GetValue(output) == "json")
            {
                Console.WriteLine(operation.ToJsonString(Indented));
                return;
            }

            var status = operation["status"]!.GetValue<string>();
            Console.WriteLine($"{action}: {status}{(operation["detail"]?.GetValue<string>() is { } detail ? $" ({detail})" : "")} - operation {operation["id"]}");
            if (status == "failed")
            {
                throw new ClientException($"{action} failed.");
            }
        }));
        return command;
    }

    /// <summary>Polls the operation until it completes; a spinner on a terminal, nothing extra in a pipe or with JSON.</summary>
    private static async Task<JsonNode> WaitAsync(ApiClient client, Guid pcId, JsonNode operation, string action, bool quiet, CancellationToken cancellationToken)
    {
        var path = $"/api/v1/cloudPCs/{pcId}/operations/{operation["id"]}";
        async Task<JsonNode> PollAsync(Action<string> show)
        {
            var started = TimeProvider.System.GetUtcNow();
            while (operation["status"]!.GetValue<string>() == "running")
            {
                var pc = await client.GetAsync($"/api/v1/cloudPCs/{pcId}", cancellationToken);
                show($"{action}: {pc["managedDeviceName"]} is {pc["status"]}, {pc["powerState"]} ({(TimeProvider.System.GetUtcNow() - started).TotalSeconds:0} s)");
                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
                operation = await client.GetAsync(path, cancellationToken);
            }

            return operation;
        }

        if (quiet || Console.IsOutputRedirected)
        {
            var last = "";
            return await PollAsync(line =>
            {
                if (!quiet && line.Split('(')[0] != last)
                {
                    last = line.Split('(')[0];
                    Console.WriteLine(line);
                }
            });
        }

        return await AnsiConsole.Status().Spinner(Spinner.Known.Dots).StartAsync($"{action}...", context => PollAsync(line => context.Status(line)));
    }

    private static Command Policy()
    {
        var command = new Command("policy", "Provisioning policies: what Cloud PCs are made from, and for whom.");
        var output = OutputOption();
        var list = new Command("list", "The tenant's provisioning policies.") { output };
        list.SetAction((result, cancellationToken) => RunAsync(async () =>
        {
            using var client = ApiClient.SignedIn();
            var page = await client.GetAsync("/api/v1/provisioningPolicies", cancellationToken);
            Print(result.GetValue(output)!, page, page["value"]!.AsArray(), ["displayName", "imageDisplayName", "regionNames", "cloudPcNamingTemplate", "gracePeriodInHours", "id"]);
        }));
        command.Subcommands.Add(list);

        var name = new Option<string>("--name") { Description = "The policy's name.", Required = true };
        var image = new Option<string>("--image") { Description = "The image id (gallery, or custom with --custom).", DefaultValueFactory = _ => "stratus-tiny-linux" };
        var custom = new Option<bool>("--custom") { Description = "The image is a custom (device) image." };
        var regions = new Option<string[]>("--region") { Description = "A region to provision in (repeat for several); none means automatic.", AllowMultipleArgumentsPerToken = true };
        var template = new Option<string?>("--naming-template") { Description = "For example CPC-%USERNAME:4%-%RAND:5%." };
        var grace = new Option<int?>("--grace-period-hours") { Description = "Hours a Cloud PC is kept after its license goes (default 168)." };
        var createOutput = OutputOption();
        var create = new Command("create", "Create a provisioning policy.") { name, image, custom, regions, template, grace, createOutput };
        create.SetAction((result, cancellationToken) => RunAsync(async () =>
        {
            using var client = ApiClient.SignedIn();
            var policy = await client.PostAsync("/api/v1/provisioningPolicies", new
            {
                displayName = result.GetValue(name),
                imageId = result.GetValue(image),
                imageType = result.GetValue(custom) ? "custom" : "gallery",
                regionNames = result.GetValue(regions) ?? [],
                cloudPcNamingTemplate = result.GetValue(template),
                gracePeriodInHours = result.GetValue(grace),
            }, cancellationToken);
            PrintObject(result.GetValue(createOutput)!, policy);
        }));
        command.Subcommands.Add(create);

        var id = new Argument<Guid>("id") { Description = "The policy's id." };
        var group = new Option<Guid>("--group") { Description = "The group to give Cloud PCs to.", Required = true };
        var plan = new Option<Guid>("--plan") { Description = "The service plan of those Cloud PCs.", Required = true };
        var assign = new Command("assign", "Add a group and plan to the policy's assignments (keeps the others).") { id, group, plan };
        assign.SetAction((result, cancellationToken) => RunAsync(async () =>
        {
            using var client = ApiClient.SignedIn();
            var policy = await client.GetAsync($"/api/v1/provisioningPolicies/{result.GetValue(id)}", cancellationToken);
            var assignments = policy["assignments"]!.AsArray().Select(a => new { target = new { groupId = a!["target"]!["groupId"]!.GetValue<Guid>(), servicePlanId = a["target"]!["servicePlanId"]!.GetValue<Guid>() } })
                .Append(new { target = new { groupId = result.GetValue(group), servicePlanId = result.GetValue(plan) } }).Distinct().ToList();
            await client.PostAsync($"/api/v1/provisioningPolicies/{result.GetValue(id)}/assign", new { assignments }, cancellationToken);
            Console.WriteLine($"Policy {policy["displayName"]} now gives plan {result.GetValue(plan)} to group {result.GetValue(group)}; its licensed members get Cloud PCs.");
        }));
        command.Subcommands.Add(assign);
        return command;
    }

    private static Command User()
    {
        var command = new Command("user", "Users of the directory and their licenses.");
        var output = OutputOption();
        var list = new Command("list", "The tenant's users.") { output };
        list.SetAction((result, cancellationToken) => RunAsync(async () =>
        {
            using var client = ApiClient.SignedIn();
            var page = await client.GetAsync("/api/v1/users", cancellationToken);
            Print(result.GetValue(output)!, page, page["value"]!.AsArray(), ["userPrincipalName", "displayName", "accountEnabled", "id"]);
        }));
        command.Subcommands.Add(list);

        var upn = new Option<string>("--upn") { Description = "name@your-tenant-domain.", Required = true };
        var displayName = new Option<string?>("--name") { Description = "The display name." };
        var createOutput = OutputOption();
        var create = new Command("create", "Create a user; the password comes from STRATUS_NEW_USER_PASSWORD or a prompt.") { upn, displayName, createOutput };
        create.SetAction((result, cancellationToken) => RunAsync(async () =>
        {
            var password = Environment.GetEnvironmentVariable("STRATUS_NEW_USER_PASSWORD")
                ?? (Console.IsInputRedirected ? throw new ClientException("set STRATUS_NEW_USER_PASSWORD to the new user's password.") : AnsiConsole.Prompt(new TextPrompt<string>("New user's password:").Secret()));
            using var client = ApiClient.SignedIn();
            var user = await client.PostAsync("/api/v1/users", new
            {
                userPrincipalName = result.GetValue(upn),
                displayName = result.GetValue(displayName) ?? result.GetValue(upn)!.Split('@')[0],
                accountEnabled = true,
                passwordProfile = new { password },
            }, cancellationToken);
            PrintObject(result.GetValue(createOutput)!, user);
        }));
        command.Subcommands.Add(create);

        var id = new Argument<Guid>("id") { Description = "The user's id." };
        var add = new Option<Guid[]>("--add") { Description = "A plan to license (repeat for several)." };
        var remove = new Option<Guid[]>("--remove") { Description = "A plan to take away (repeat for several)." };
        var license = new Command("license", "Assign or remove licenses (Graph's assignLicense).") { id, add, remove };
        license.SetAction((result, cancellationToken) => RunAsync(async () =>
        {
            using var client = ApiClient.SignedIn();
            await client.PostAsync($"/api/v1/users/{result.GetValue(id)}/assignLicense", new
            {
                addLicenses = (result.GetValue(add) ?? []).Select(skuId => new { skuId }),
                removeLicenses = result.GetValue(remove) ?? [],
            }, cancellationToken);
            Console.WriteLine($"Licenses of {result.GetValue(id)} changed.");
        }));
        command.Subcommands.Add(license);
        return command;
    }

    private static Option<string> OutputOption()
    {
        var output = new Option<string>("--output", "-o") { Description = "table or json.", DefaultValueFactory = _ => "table" };
        output.AcceptOnlyFromAmong("table", "json");
        return output;
    }

    private static void Print(string output, JsonNode page, JsonArray rows, string[] columns)
    {
        if (output == "json")
        {
            Console.WriteLine(page.ToJsonString(Indented));
            return;
        }

        if (rows.Count == 0)
        {
            Console.WriteLine("Nothing here yet.");
            return;
        }

        FitPipes();
        var table = new Table().Border(TableBorder.Rounded);
        foreach (var column in columns)
        {
            table.AddColumn(column);
        }

        foreach (var row in rows)
        {
            table.AddRow(columns.Select(c => Markup.Escape(Cell(row?[c]))).ToArray());
        }

        AnsiConsole.Write(table);
        if (page["totalCount"] is { } total && total.GetValue<int>() > rows.Count)
        {
            Console.WriteLine($"{rows.Count} of {total}; use --top or --filter.");
        }
    }

    private static void PrintObject(string output, JsonNode value)
    {
        if (output == "json")
        {
            Console.WriteLine(value.ToJsonString(Indented));
            return;
        }

        FitPipes();
        var table = new Table().Border(TableBorder.Rounded).AddColumn("property").AddColumn("value");
        foreach (var (key, node) in value.AsObject())
        {
            table.AddRow(Markup.Escape(key), Markup.Escape(Cell(node)));
        }

        AnsiConsole.Write(table);
    }

    /// <summary>A pipe has no width; Spectre would assume 80 columns and wrap ids and names that scripts grep for.</summary>
    private static void FitPipes()
    {
        if (Console.IsOutputRedirected)
        {
            AnsiConsole.Profile.Width = 250;
        }
    }

    private static string Cell(JsonNode? node) => node switch
    {
        null => "",
        JsonArray array => string.Join(", ", array.Select(Cell)),
        JsonObject obj => obj.ToJsonString(),
        _ => node.ToString(),
    };

    /// <summary>Every client failure is one line on stderr and exit code 1.</summary>
    private static async Task<int> RunAsync(Func<Task> run)
    {
        try
        {
            await run();
            return 0;
        }
        catch (ClientException e)
        {
            await Console.Error.WriteLineAsync($"error: {e.Message}");
            return 1;
        }
    }
}
