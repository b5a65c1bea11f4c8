using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Stratus.Monitoring.Notifications;
using Stratus.Monitoring.Persistence;
using Stratus.Monitoring.Rules;

namespace Stratus.Monitoring.Records;

/// <summary>
/// Turns impacts into records: a subject's bad event raises an impact, its good event clears it, and after each the
/// rule's count is compared with its threshold. A record opens (active) when the count reaches the target and
/// resolves when it falls below; each change queues its notifications in the same save.
/// </summary>
public sealed class Alerting(MonitoringDbContext db, BuiltInRules rules, NotificationOutbox outbox, TimeProvider clock)
{
    public Task RaiseAsync(Guid scope, AlertRuleTemplate template, string subject, string detail, CancellationToken cancellationToken) =>
        ChangeAsync([new ImpactChange(scope, template, subject, detail, Raised: true)], cancellationToken);

    public Task ClearAsync(Guid scope, AlertRuleTemplate template, string subject, string detail, CancellationToken cancellationToken) =>
        ChangeAsync([new ImpactChange(scope, template, subject, detail, Raised: false)], cancellationToken);

    /// <summary>Applies the changes of one event and evaluates their rules, all in one save (with the handler's inbox record).</summary>
    public Task ChangeAsync(IReadOnlyList<ImpactChange> changes, CancellationToken cancellationToken) =>
        db.RetryOnConcurrentChangeAsync(async () =>
        {
            foreach (var change in changes)
            {
                var impact = await db.Impacts.FirstOrDefaultAsync(i => i.Scope == change.Scope && i.Template == change.Template && i.Subject == change.Subject, cancellationToken);
                var countChange = 0;
                if (change.Raised && impact is null)
                {
                    var now = clock.GetUtcNow();
                    db.Impacts.Add(new AlertImpact { Id = Guid.CreateVersion7(now), Scope = change.Scope, Template = change.Template, Subject = change.Subject, Detail = Trim(change.Detail), Since = now });
                    countChange = 1;
                }
                else if (change.Raised)
                {
                    impact!.Detail = Trim(change.Detail);
                }
                else if (impact is not null)
                {
                    db.Impacts.Remove(impact);
                    countChange = -1;
                }
                else
                {
                    // A good event of a subject that was never bad (or already cleared): nothing changes.
                    continue;
                }

                await EvaluateAsync(change.Scope, change.Template, change.Detail, countChange, cancellationToken);
            }

            await db.SaveChangesAsync(cancellationToken);
            return true;
        });

    /// <summary>An administrator resolves an active record: its impacts are forgotten, so new failures open a new one.</summary>
    public async Task ResolveByHandAsync(AlertRecord record, string who, CancellationToken cancellationToken)
    {
        var rule = await db.Rules.FirstAsync(r => r.Id == record.RuleId, cancellationToken);
        var impacts = await db.Impacts.Where(i => i.Scope == record.Scope && i.Template == record.Template).ToListAsync(cancellationToken);
        db.Impacts.RemoveRange(impacts);
        rule.ConcurrencyStamp = Guid.NewGuid();
        Resolve(rule, record, $"Resolved by {who}.");
        await db.SaveChangesAsync(cancellationToken);
    }

    private async Task EvaluateAsync(Guid scope, AlertRuleTemplate template, string detail, int countChange, CancellationToken cancellationToken)
    {
        var rule = await rules.OfTemplateAsync(scope, template, cancellationToken);
        // Every evaluation changes the rule's stamp: of two evaluations at once, the second to save retries and sees the first.
        rule.ConcurrencyStamp = Guid.NewGuid();
        var count = await db.Impacts.CountAsync(i => i.Scope == scope && i.Template == template, cancellationToken) + countChange;
        var active = await db.Records.FirstOrDefaultAsync(r => r.RuleId == rule.Id && r.Status == AlertStatus.Active, cancellationToken);
        var now = clock.GetUtcNow();
        if (active is null)
        {
            if (rule.Enabled && count >= rule.ThresholdTarget)
            {
                var record = new AlertRecord
                {
                    Id = Guid.CreateVersion7(now),
                    Scope = scope,
                    RuleId = rule.Id,
                    Template = template,
                    DisplayName = rule.DisplayName,
                    Severity = rule.Severity,
                    Status = AlertStatus.Active,
                    ImpactCount = count,
                    Detail = Trim(detail),
                    DetectedAt = now,
                    LastUpdatedAt = now,
                    ConcurrencyStamp = Guid.NewGuid(),
                };
                db.Records.Add(record);
                outbox.Queue(rule, record);
            }
        }
        else if (count < rule.ThresholdTarget)
        {
            active.ImpactCount = count;
            Resolve(rule, active, Trim(detail));
        }
        else
        {
            // Still active: the count and latest detail change, which is no state change to notify.
            active.ImpactCount = count;
            active.Detail = Trim(detail);
            active.LastUpdatedAt = now;
            active.ConcurrencyStamp = Guid.NewGuid();
        }
    }

    private void Resolve(AlertRule rule, AlertRecord record, string detail)
    {
        var now = clock.GetUtcNow();
        record.Status = AlertStatus.Resolved;
        record.ResolvedAt = now;
        record.LastUpdatedAt = now;
        record.Detail = Trim(detail);
        record.ConcurrencyStamp = Guid.NewGuid();
        outbox.Queue(rule, record);
    }

    private static string Trim(string text) => text.Length <= 2000 ? text : text[..2000];
}

/// <summary>One subject's impact raised (its bad event) or cleared (its good event).</summary>
public sealed record ImpactChange(Guid Scope, AlertRuleTemplate Template, string Subject, string Detail, bool Raised);
