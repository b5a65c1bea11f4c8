using System.Net.Http.Json;
using System.Text.Json;

namespace Stratus.Monitoring.Tests;

/// <summary>An event in, a record active, an e-mail at the SMTP server and a signed webhook; the good event resolves it, notified the same way.</summary>
[Collection(MonitoringCollection.Name)]
public sealed class NotificationTests(MonitoringHosts hosts)
{
    private const string Secret = "webhook-secret-0123456789";

    [Theory]
    [MemberData(nameof(MonitoringHosts.Providers), MemberType = typeof(MonitoringHosts))]
    public async Task ProvisioningFailure_OpensRecord_MailsAndPostsSigned_ThenResolvesAndNotifiesOnce(string provider)
    {
        var host = hosts.Host(provider);
        using var tenant = await host.CreateTenantAsync();
        await using var receiver = new WebhookReceiver(Secret);
        var recipient = $"ops-{Guid.NewGuid():N}@{tenant.Domain}";
        var rule = await tenant.RuleAsync("cloudPcProvisionScenario");
        var ruleId = rule.GetProperty("id").GetGuid();
        var patched = await tenant.PatchAsync(ruleId, new
        {
            severity = "critical",
            notificationChannels = new object[]
            {
                new { notificationChannelType = "portal" },
                new { notificationChannelType = "email", notificationReceivers = new[] { new { contactInformation = recipient } } },
                new { notificationChannelType = "webhook", url = receiver.Url, secret = Secret },
            },
        });
        Assert.Equal("critical", patched.GetProperty("severity").GetString());
        Assert.True(patched.GetProperty("notificationChannels")[2].GetProperty("secretSet").GetBoolean());
        Assert.DoesNotContain(Secret, patched.GetRawText(), StringComparison.Ordinal);

        var cloudPc = Guid.NewGuid();
        await host.PublishAsync(new CloudPcStatusChanged(tenant.Id, cloudPc, Guid.NewGuid(), "failed", "imageNotFound", TimeProvider.System.GetUtcNow()));

        var active = Assert.Single(await Eventually.UntilAsync(() => tenant.RecordsAsync("active"), r => r.Count > 0, "an active record"));
        Assert.Equal("cloudPcProvisionScenario", active.GetProperty("alertRuleTemplate").GetString());
        Assert.Equal("critical", active.GetProperty("severity").GetString());
        Assert.Equal(1, active.GetProperty("alertImpact").GetProperty("value").GetInt32());
        var recordId = active.GetProperty("alertRecordId").GetGuid();

        var mail = (await Eventually.UntilAsync(() => hosts.Smtp.To(recipient), m => m.Count >= 1, "the alert e-mail"))[0];
        Assert.Equal("alerts@stratus.test", mail.From.Mailboxes.Single().Address);
        Assert.Equal("[Stratus] critical alert active: Provisioning failures (1 impacted)", mail.Subject);
        Assert.Contains(cloudPc.ToString(), mail.TextBody, StringComparison.Ordinal);
        Assert.Contains("imageNotFound", mail.TextBody, StringComparison.Ordinal);
        var hook = (await Eventually.UntilAsync(() => receiver.Deliveries.ToList(), d => d.Count >= 1, "the signed webhook"))[0];
        Assert.True(hook.SignatureValid, $"signature {hook.Signature} does not match the body");
        var sent = JsonDocument.Parse(hook.Body).RootElement;
        Assert.Equal(recordId, sent.GetProperty("alertRecordId").GetGuid());
        Assert.Equal("active", sent.GetProperty("status").GetString());
        Assert.Equal(tenant.Id, sent.GetProperty("tenantId").GetGuid());

        await host.PublishAsync(new CloudPcStatusChanged(tenant.Id, cloudPc, Guid.NewGuid(), "provisioned", null, TimeProvider.System.GetUtcNow()));

        var resolved = await Eventually.UntilAsync(async () => await tenant.Admin.GetFromJsonAsync<JsonElement>($"{TestTenant.Records}/{recordId}"),
            r => r.GetProperty("status").GetString() == "resolved", "the record resolved");
        Assert.Equal(0, resolved.GetProperty("alertImpact").GetProperty("value").GetInt32());
        Assert.Equal(JsonValueKind.String, resolved.GetProperty("resolvedDateTime").ValueKind);
        var mails = await Eventually.UntilAsync(() => hosts.Smtp.To(recipient), m => m.Count >= 2, "the resolved e-mail");
        Assert.Equal("[Stratus] critical alert resolved: Provisioning failures (0 impacted)", mails[1].Subject);
        var hooks = await Eventually.UntilAsync(() => receiver.Deliveries.ToList(), d => d.Count >= 2, "the resolved webhook");
        Assert.True(hooks[1].SignatureValid);
        Assert.Equal("resolved", JsonDocument.Parse(hooks[1].Body).RootElement.GetProperty("status").GetString());

        // Exactly once per state change: all four notifications delivered on their first attempt, and no more arrived.
        var deliveries = await Eventually.UntilAsync(() => TestTenant.DeliveriesOfAsync(tenant.Admin, ruleId),
            d => d.Count == 4 && d.All(n => n.GetProperty("status").GetString() == "delivered"), "four deliveries");
        Assert.All(deliveries, d => Assert.Equal(1, d.GetProperty("attempts").GetInt32()));
        Assert.Equal(2, hosts.Smtp.To(recipient).Count);
        Assert.Equal(2, receiver.Deliveries.Count);
        Assert.Empty(await tenant.RecordsAsync("active"));
    }

    [Theory]
    [MemberData(nameof(MonitoringHosts.Providers), MemberType = typeof(MonitoringHosts))]
    public async Task Webhook_ThatFailsTwice_IsDeliveredOnTheThirdAttempt_AndTheLogShowsEachAttempt(string provider)
    {
        var host = hosts.Host(provider);
        using var tenant = await host.CreateTenantAsync();
        await using var receiver = new WebhookReceiver(Secret, failFirst: 2);
        var ruleId = (await tenant.RuleAsync("cloudPcImageUploadScenario")).GetProperty("id").GetGuid();
        await tenant.PatchAsync(ruleId, new { notificationChannels = new object[] { new { notificationChannelType = "webhook", url = receiver.Url, secret = Secret } } });

        await host.PublishAsync(new DeviceImageFailed(Guid.NewGuid(), tenant.Id, "Win 11 golden", "1.0", "sourceImageInvalid", "The file is no disk image.", TimeProvider.System.GetUtcNow()));

        var delivery = Assert.Single(await Eventually.UntilAsync(() => TestTenant.DeliveriesOfAsync(tenant.Admin, ruleId),
            d => d.Count == 1 && d[0].GetProperty("status").GetString() == "delivered", "the webhook delivered"));
        Assert.Equal("webhook", delivery.GetProperty("channel").GetString());
        Assert.Equal(3, delivery.GetProperty("attempts").GetInt32());
        var log = delivery.GetProperty("attemptLog").EnumerateArray().ToList();
        Assert.Equal([false, false, true], log.Select(a => a.GetProperty("succeeded").GetBoolean()));
        Assert.Contains("HTTP 500", log[0].GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal("HTTP 200", log[2].GetProperty("detail").GetString());
        // Backoff: the second retry waited at least as long as the first (1 s, then 2 s).
        var at = log.Select(a => a.GetProperty("dateTime").GetDateTimeOffset()).ToList();
        Assert.True(at[1] - at[0] >= TimeSpan.FromSeconds(1) && at[2] - at[1] >= TimeSpan.FromSeconds(2), $"attempts at {string.Join(", ", at)}");
        Assert.Equal(3, receiver.Deliveries.Count);
        Assert.All(receiver.Deliveries, d => Assert.True(d.SignatureValid));
    }

    [Theory]
    [MemberData(nameof(MonitoringHosts.Providers), MemberType = typeof(MonitoringHosts))]
    public async Task HostDown_IsThePlatformOperatorsAlert_AndHostUpResolvesIt(string provider)
    {
        var host = hosts.Host(provider);
        using var tenant = await host.CreateTenantAsync();
        using var operatorClient = await host.Process.OperatorClientAsync();
        var rules = (await operatorClient.GetFromJsonAsync<JsonElement>(TestTenant.Rules)).GetProperty("value");
        Assert.Equal(["cloudPcInaccessibleScenario"], rules.EnumerateArray().Select(r => r.GetProperty("alertRuleTemplate").GetString()));
        var tenantRules = (await tenant.Admin.GetFromJsonAsync<JsonElement>(TestTenant.Rules)).GetProperty("value");
        Assert.DoesNotContain("cloudPcInaccessibleScenario", tenantRules.EnumerateArray().Select(r => r.GetProperty("alertRuleTemplate").GetString()));

        var hostId = Guid.NewGuid();
        var name = $"host-{hostId:N}"[..16];
        await host.PublishAsync(new HostDown(hostId, name, "local-1", "local-1a", TimeProvider.System.GetUtcNow().AddMinutes(-2), TimeProvider.System.GetUtcNow()));
        var record = await Eventually.UntilAsync(async () => (await TestTenant.RecordsOfAsync(operatorClient, "active")).FirstOrDefault(r => r.GetProperty("detail").GetString()!.Contains(name, StringComparison.Ordinal)),
            r => r.ValueKind == JsonValueKind.Object, "the operator's host-down record");
        Assert.Equal("cloudPcInaccessibleScenario", record.GetProperty("alertRuleTemplate").GetString());
        Assert.Equal(JsonValueKind.Null, record.GetProperty("tenantId").ValueKind);
        Assert.Empty(await tenant.RecordsAsync());

        await host.PublishAsync(new HostUp(hostId, name, "local-1", "local-1a", TimeProvider.System.GetUtcNow()));
        var id = record.GetProperty("alertRecordId").GetGuid();
        await Eventually.UntilAsync(async () => await operatorClient.GetFromJsonAsync<JsonElement>($"{TestTenant.Records}/{id}"),
            r => r.GetProperty("status").GetString() == "resolved", "the host-down record resolved");
    }
}
