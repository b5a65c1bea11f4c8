using System.CommandLine;
using System.Text.Json.Nodes;
using Spectre.Console;

namespace Stratus.Client;

/// <summary>`stratus tenant ...` (the platform operator) and `stratus group ...` (a tenant's administrators).</summary>
internal static partial class ClientCommands
{
    private static Command Tenant()
    {
        var command = new Command("tenant", "Tenants (the platform operator): create, give seats, suspend, delete.");
        var output = OutputOption();
        var list = new Command("list", "Every tenant.") { output };
        list.SetAction((result, cancellationToken) => RunAsync(async () =>
        {
            using var client = ApiClient.SignedIn();
            var page = await client.GetAsync($"/api/v1/tenants?$top=1000", cancellationToken);
            Print(result.GetValue(output)!, page, page["value"]!.AsArray(), ["domain", "displayName", "state", "createdDateTime", "id"]);
        }));
        command.Subcommands.Add(list);

        var name = new Option<string>("--name") { Description = "The tenant's display name.", Required = true };
        var domain = new Option<string>("--domain") { Description = "Its DNS domain (unique), for example contoso.example; user names end with @domain.", Required = true };
        var admin = new Option<string?>("--admin") { Description = "The first administrator's user name (default admin@DOMAIN); the password comes from STRATUS_NEW_USER_PASSWORD or a prompt." };
        var adminName = new Option<string?>("--admin-name") { Description = "The first administrator's display name." };
        var createOutput = OutputOption();
        var create = new Command("create", "Create a tenant with its first tenant administrator.") { name, domain, admin, adminName, createOutput };
        create.SetAction((result, cancellationToken) => RunAsync(async () =>
        {
            var password = NewPassword("the tenant administrator's");
            using var client = ApiClient.SignedIn();
            var created = await client.PostAsync("/api/v1/tenants", new
            {
                displayName = result.GetValue(name),
                domain = result.GetValue(domain),
                admin = new { userName = result.GetValue(admin) ?? $"admin@{result.GetValue(domain)}", password, displayName = result.GetValue(adminName) },
            }, cancellationToken);
            if (result.GetValue(createOutput) == "json")
            {
                Console.WriteLine(created.ToJsonString(Indented));
                return;
            }

            var view = created["tenant"]!.DeepClone().AsObject();
            view["administrator"] = created["admin"]?["userPrincipalName"]?.DeepClone();
            PrintObject("table", view);
        }));
        command.Subcommands.Add(create);

        var seatsTenant = TenantIdArgument();
        var plan = new Option<Guid>("--plan") { Description = "The service plan (see /api/v1/servicePlans).", Required = true };
        var units = new Option<int>("--units") { Description = "How many seats the tenant bought (0 to 1,000,000).", Required = true };
        var seats = new Command("seats", "Set how many seats of a plan a tenant bought.") { seatsTenant, plan, units };
        seats.SetAction((result, cancellationToken) => RunAsync(async () =>
        {
            using var client = ApiClient.SignedIn();
            await client.SendAsync(HttpMethod.Put, $"/api/v1/tenants/{result.GetValue(seatsTenant)}/subscribedSkus/{result.GetValue(plan)}",
                new { prepaidUnits = result.GetValue(units) }, cancellationToken);
            Console.WriteLine($"Tenant {result.GetValue(seatsTenant)} now has {result.GetValue(units)} seats of plan {result.GetValue(plan)}.");
        }));
        command.Subcommands.Add(seats);

        command.Subcommands.Add(TenantState("suspend", "Stop the tenant's accounts from signing in; nothing is deleted."));
        command.Subcommands.Add(TenantState("activate", "Let a suspended tenant sign in again."));

        var deleteTenant = TenantIdArgument();
        var yes = YesOption();
        var delete = new Command("delete", "Delete a suspended tenant without Cloud PCs, and its directory. Cannot be undone.") { deleteTenant, yes };
        delete.SetAction((result, cancellationToken) => RunAsync(async () =>
        {
            Confirm(result.GetValue(yes), $"deleting tenant {result.GetValue(deleteTenant)}");
            using var client = ApiClient.SignedIn();
            await client.SendAsync(HttpMethod.Delete, $"/api/v1/tenants/{result.GetValue(deleteTenant)}", null, cancellationToken);
            Console.WriteLine($"Deleted tenant {result.GetValue(deleteTenant)}.");
        }));
        command.Subcommands.Add(delete);
        return command;
    }

    private static Command TenantState(string action, string description)
    {
        var id = TenantIdArgument();
        var output = OutputOption();
        var command = new Command(action, description) { id, output };
        command.SetAction((result, cancellationToken) => RunAsync(async () =>
        {
            using var client = ApiClient.SignedIn();
            var tenant = await client.PostAsync($"/api/v1/tenants/{result.GetValue(id)}/{action}", null, cancellationToken);
            PrintObject(result.GetValue(output)!, tenant);
        }));
        return command;
    }

    private static Argument<Guid> TenantIdArgument() => new("id") { Description = "The tenant's id (see 'stratus tenant list')." };

    private static Command Group()
    {
        var command = new Command("group", "Groups of the directory and their members.");
        var filter = new Option<string?>("--name") { Description = "Only the group with this display name." };
        var output = OutputOption();
        var list = new Command("list", "The tenant's groups.") { filter, output };
        list.SetAction((result, cancellationToken) => RunAsync(async () =>
        {
            using var client = ApiClient.SignedIn();
            var query = result.GetValue(filter) is { } n ? "&$filter=" + Uri.EscapeDataString($"displayName eq '{n.Replace("'", "''", StringComparison.Ordinal)}'") : "";
            var page = await client.GetAsync($"/api/v1/groups?$top=1000{query}", cancellationToken);
            Print(result.GetValue(output)!, page, page["value"]!.AsArray(), ["displayName", "description", "onPremisesSyncEnabled", "createdDateTime", "id"]);
        }));
        command.Subcommands.Add(list);

        var name = new Option<string>("--name") { Description = "The group's display name.", Required = true };
        var description = new Option<string?>("--description") { Description = "What the group is for." };
        var createOutput = OutputOption();
        var create = new Command("create", "Create a group.") { name, description, createOutput };
        create.SetAction((result, cancellationToken) => RunAsync(async () =>
        {
            using var client = ApiClient.SignedIn();
            var group = await client.PostAsync("/api/v1/groups", new { displayName = result.GetValue(name), description = result.GetValue(description) }, cancellationToken);
            PrintObject(result.GetValue(createOutput)!, group);
        }));
        command.Subcommands.Add(create);

        var deleteId = GroupIdArgument();
        var yes = YesOption();
        var delete = new Command("delete", "Delete a group; Cloud PCs given through it go the way of a removed assignment.") { deleteId, yes };
        delete.SetAction((result, cancellationToken) => RunAsync(async () =>
        {
            Confirm(result.GetValue(yes), $"deleting group {result.GetValue(deleteId)}");
            using var client = ApiClient.SignedIn();
            await client.SendAsync(HttpMethod.Delete, $"/api/v1/groups/{result.GetValue(deleteId)}", null, cancellationToken);
            Console.WriteLine($"Deleted group {result.GetValue(deleteId)}.");
        }));
        command.Subcommands.Add(delete);

        var membersId = GroupIdArgument();
        var membersOutput = OutputOption();
        var members = new Command("members", "The group's members.") { membersId, membersOutput };
        members.SetAction((result, cancellationToken) => RunAsync(async () =>
        {
            using var client = ApiClient.SignedIn();
            var page = await client.GetAsync($"/api/v1/groups/{result.GetValue(membersId)}/members?$top=1000", cancellationToken);
            Print(result.GetValue(membersOutput)!, page, page["value"]!.AsArray(), ["userPrincipalName", "displayName", "accountEnabled", "id"]);
        }));
        command.Subcommands.Add(members);

        command.Subcommands.Add(MemberCommand("add-member", "Add a user to the group.", add: true));
        command.Subcommands.Add(MemberCommand("remove-member", "Take a user out of the group.", add: false));
        return command;
    }

    private static Command MemberCommand(string action, string description, bool add)
    {
        var id = GroupIdArgument();
        var user = new Option<string>("--user") { Description = "The user: its id or its user principal name (name@tenant-domain).", Required = true };
        var command = new Command(action, description) { id, user };
        command.SetAction((result, cancellationToken) => RunAsync(async () =>
        {
            using var client = ApiClient.SignedIn();
            var userId = await ResolveUserAsync(client, result.GetValue(user)!, cancellationToken);
            var group = result.GetValue(id);
            if (add)
            {
                await client.PostAsync($"/api/v1/groups/{group}/members", new { id = userId }, cancellationToken);
                Console.WriteLine($"{result.GetValue(user)} is a member of group {group}.");
            }
            else
            {
                await client.SendAsync(HttpMethod.Delete, $"/api/v1/groups/{group}/members/{userId}", null, cancellationToken);
                Console.WriteLine($"{result.GetValue(user)} is no longer a member of group {group}.");
            }
        }));
        return command;
    }

    private static Argument<Guid> GroupIdArgument() => new("id") { Description = "The group's id (see 'stratus group list')." };

    /// <summary>A user's id, given as an id or a user principal name.</summary>
    private static async Task<Guid> ResolveUserAsync(ApiClient client, string user, CancellationToken cancellationToken)
    {
        if (Guid.TryParse(user, out var id))
        {
            return id;
        }

        var filter = Uri.EscapeDataString($"userPrincipalName eq '{user.Replace("'", "''", StringComparison.Ordinal)}'");
        var page = await client.GetAsync($"/api/v1/users?$filter={filter}", cancellationToken);
        return page["value"]!.AsArray().FirstOrDefault()?["id"]?.GetValue<Guid>()
            ?? throw new ClientException($"there is no user '{user}' in your tenant; see 'stratus user list'.");
    }

    private static Option<bool> YesOption() => new("--yes") { Description = "Confirm: deleting cannot be undone." };

    /// <summary>Deletes are never a slip of the keyboard, nor a prompt that hangs a script: they need --yes.</summary>
    private static void Confirm(bool yes, string what)
    {
        if (!yes)
        {
            throw new ClientException($"{what} cannot be undone: run it again with --yes to confirm.");
        }
    }

    private static string NewPassword(string whose) =>
        Environment.GetEnvironmentVariable("STRATUS_NEW_USER_PASSWORD")
        ?? (Console.IsInputRedirected
            ? throw new ClientException($"set STRATUS_NEW_USER_PASSWORD to {whose} password.")
            : AnsiConsole.Prompt(new TextPrompt<string>($"Password for {whose} account:").Secret()));
}
