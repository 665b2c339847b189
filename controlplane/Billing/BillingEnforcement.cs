using System.Globalization;
using Gateway.Billing;
using Gateway.Billing.Webhooks;
using Gateway.ControlPlane.Audit;
using Gateway.Core.Keys;

namespace Gateway.ControlPlane.Billing;

/// <summary>
/// Brings a customer's keys in line with its <see cref="BillingAccount"/>: a cancelled subscription revokes them, the
/// subscription's plan becomes theirs, a failed payment past its grace suspends the active ones (recording billing as
/// the cause), a paid invoice reactivates the keys billing suspended. Every change goes through
/// <see cref="ApiKeyService"/> (stored, announced to the gateways) and is audited once, actor <c>stripe</c>: a change
/// counts only when this call made it (ETag-conditional), so concurrent runs never audit one change twice.
/// Ordering rule: handlers write the account first, then converge; converging reads the account, acts, and reads it
/// again, acting again if a newer event landed meanwhile. Whichever of two runs acts last, it acted on a state it
/// read after the newest write, so the keys end as the newest event says (raced in StripeWebhookTests). The billing
/// cause of a suspension is recorded before and after suspending, and forgotten only when the key is seen not
/// suspended, so a stale run's late suspension always leaves its cause on record for the newer "paid" run to undo.
/// </summary>
public sealed class BillingEnforcement(BillingAccounts accounts, StripeCustomerLinks links, ApiKeyService keys, AuditLog audit, TimeProvider time)
{
    /// <summary>The actor (and role) of billing's audit entries.</summary>
    public const string Actor = "stripe";

    /// <summary>Converges the keys of the gateway customer linked to <paramref name="stripeCustomerId"/>; answers the changes made.</summary>
    public async Task<int> ConvergeAsync(string stripeCustomerId, CancellationToken cancellationToken)
    {
        var customerId = await links.FindCustomerAsync(stripeCustomerId, cancellationToken);
        return customerId is null ? 0 : await ConvergeAsync(customerId, stripeCustomerId, cancellationToken);
    }

    /// <summary>Converges <paramref name="customerId"/>'s keys to the account of <paramref name="stripeCustomerId"/> (just linked, say).</summary>
    public async Task<int> ConvergeAsync(string customerId, string stripeCustomerId, CancellationToken cancellationToken)
    {
        var changes = 0;
        var account = await accounts.FindAsync(stripeCustomerId, cancellationToken);
        for (var round = 0; account is not null && round < 5; round++)
        {
            changes += await ApplyAsync(customerId, account, cancellationToken);
            var again = await accounts.FindAsync(stripeCustomerId, cancellationToken);
            if (again?.Version == account.Version)
            {
                break;
            }

            account = again;
        }

        return changes;
    }

    private async Task<int> ApplyAsync(string customerId, BillingAccount account, CancellationToken cancellationToken)
    {
        var changes = 0;
        var now = time.GetUtcNow();
        foreach (var key in await AllKeysAsync(customerId, cancellationToken))
        {
            if (account.Cancelled)
            {
                changes += key.Status == ApiKeyStatus.Revoked ? 0 : await AuditAsync(await keys.SetStatusFromAsync(key.Id, key.Status, ApiKeyStatus.Revoked, cancellationToken), AuditActions.KeyRevoked, "subscription cancelled", cancellationToken);
                continue;
            }

            if (account.Plan is { } plan && key.Plan != plan && key.Status != ApiKeyStatus.Revoked)
            {
                changes += await AuditAsync(await keys.MovePlanAsync(key.Id, plan, cancellationToken), AuditActions.KeyPlanChanged, $"plan '{plan}' (subscription)", cancellationToken);
            }

            if (account.SuspensionDue(now) && key.Status == ApiKeyStatus.Active && key.IsLive(now))
            {
                // The cause first: a key billing suspended is always on record, so paying reactivates it.
                await accounts.RecordSuspensionAsync(customerId, key.Id, cancellationToken);
                var summary = string.Create(CultureInfo.InvariantCulture, $"payment failed; grace ended {account.SuspendAt:yyyy-MM-dd'T'HH:mm:ss'Z'}");
                changes += await AuditAsync(await keys.SetStatusFromAsync(key.Id, ApiKeyStatus.Active, ApiKeyStatus.Suspended, cancellationToken), AuditActions.KeySuspended, summary, cancellationToken);

                // And again after: a concurrent "paid" run may have forgotten the cause between the two steps (it saw the
                // key still active); recorded now, this run's re-read of the account (newer: paid) reactivates the key.
                await accounts.RecordSuspensionAsync(customerId, key.Id, cancellationToken);
            }
        }

        if (!account.PaymentFailed && !account.Cancelled)
        {
            foreach (var keyId in await accounts.ListSuspendedKeysAsync(customerId, cancellationToken))
            {
                changes += await AuditAsync(await keys.SetStatusFromAsync(keyId, ApiKeyStatus.Suspended, ApiKeyStatus.Active, cancellationToken), AuditActions.KeyReactivated, "invoice paid", cancellationToken);

                // The cause is forgotten only once the key is seen not suspended: a stale run's suspension that lands
                // after this reactivation finds its cause still on record (and re-records it), so it is undone too.
                if ((await keys.FindAsync(keyId, cancellationToken)).Value?.Status != ApiKeyStatus.Suspended)
                {
                    await accounts.ForgetSuspensionAsync(customerId, keyId, cancellationToken);
                }
            }
        }

        return changes;
    }

    private async Task<IReadOnlyList<ApiKeyRecord>> AllKeysAsync(string customerId, CancellationToken cancellationToken)
    {
        var all = new List<ApiKeyRecord>();
        string? token = null;
        do
        {
            var page = await keys.ListAsync(customerId, token, "1000", cancellationToken);
            if (!page.Succeeded)
            {
                // The customer was deleted: it holds no key to change.
                return all;
            }

            all.AddRange(page.Value!.Items);
            token = page.Value.ContinuationToken;
        }
        while (token is not null);

        return all;
    }

    private async Task<int> AuditAsync(ApiKeyRecord? changed, string action, string summary, CancellationToken cancellationToken)
    {
        if (changed is null)
        {
            return 0;
        }

        await audit.AppendAsync(new AuditEntry(time.GetUtcNow(), Actor, Actor, action, changed.Id, Source: null, $"customer {changed.CustomerId}, {summary}"), cancellationToken);
        return 1;
    }
}
