// The keys of one customer as a table, with the actions the role may take on each.
import { html } from 'lit-html';
import { post, put } from './api.js';
import { count, now, time } from './format.js';
import { confirmAction, quotaBar } from './ui.js';

/**
 * keys: KeyView[]; used: Map keyId → calls this month; plans: PlanView[]; can: { plan, rotate, suspend, revoke };
 * after(result, message): called with what an action answered (a rotation's new key carries its secret).
 */
export function keysTable(keys, used, plans, can, after, fail) {
  if (keys.length === 0) return html`<p class="muted" data-state="empty">No keys yet.</p>`;
  const plan = (name) => plans.find((p) => p.name === name);
  const act = async (work) => {
    try { await after(await work()); } catch (e) { fail(e); }
  };
  const lapsed = (k) => k.expiresAt && Date.parse(k.expiresAt) <= +now();
  return html`<div class="table-wrap" tabindex="0"><table data-testid="keys">
    <thead><tr>
      <th scope="col">Key</th><th scope="col">Plan</th><th scope="col">Status</th><th scope="col">Created</th>
      <th scope="col">This month</th>${can.any ? html`<th scope="col">Actions</th>` : ''}
    </tr></thead>
    <tbody>${keys.map((k) => html`<tr data-key=${k.id}>
      <td><code>${k.displayPrefix}</code>${k.name ? html`<br><small>${k.name}</small>` : ''}</td>
      <td>${plan(k.plan)?.displayName ?? k.plan}</td>
      <td data-testid="status">${lapsed(k) ? 'expired' : k.status}${k.expiresAt && !lapsed(k) ? html`<br><small>until ${time(k.expiresAt)}</small>` : ''}</td>
      <td>${time(k.createdAt)}</td>
      <td class="wrap">${quotaBar(k.displayPrefix, used.get(k.id) ?? 0, plan(k.plan)?.monthlyQuota ?? 0)}</td>
      ${can.any ? html`<td><div class="row-actions">
        ${can.plan && k.status !== 'revoked' ? html`
          <select aria-label=${`Plan for ${k.displayPrefix}`} @change=${(e) => act(async () => {
            const answer = await put(`/keys/${k.id}/plan`, { plan: e.target.value });
            return { message: `Key ${k.displayPrefix} is now on plan ${answer.plan}.` };
          })}>${plans.map((p) => html`<option value=${p.name} ?selected=${p.name === k.plan}>${p.displayName}</option>`)}</select>` : ''}
        ${can.rotate && k.status === 'active' && !k.expiresAt ? html`<button type="button" class="secondary" @click=${() => act(async () => {
          if (!await confirmAction('Rotate this key?', `A new key replaces ${k.displayPrefix}; the old one keeps working for one hour.`, 'Rotate')) return null;
          const answer = await post(`/keys/${k.id}/rotate`, {});
          return { message: `Key ${k.displayPrefix} rotated; it stops working ${new Date(answer.old.expiresAt).toLocaleString()}.`, secret: answer.new };
        })}>Rotate</button>` : ''}
        ${can.suspend && k.status === 'active' ? html`<button type="button" class="secondary" @click=${() => act(async () => {
          await post(`/keys/${k.id}/suspend`, {});
          return { message: `Key ${k.displayPrefix} suspended.` };
        })}>Suspend</button>` : ''}
        ${can.suspend && k.status === 'suspended' ? html`<button type="button" class="secondary" @click=${() => act(async () => {
          await post(`/keys/${k.id}/reactivate`, {});
          return { message: `Key ${k.displayPrefix} reactivated.` };
        })}>Reactivate</button>` : ''}
        ${can.revoke && k.status !== 'revoked' ? html`<button type="button" class="contrast" @click=${() => act(async () => {
          if (!await confirmAction('Revoke this key?', `Calls with ${k.displayPrefix} will be refused from now on. This cannot be undone.`, 'Revoke')) return null;
          await post(`/keys/${k.id}/revoke`, {});
          return { message: `Key ${k.displayPrefix} revoked.` };
        })}>Revoke</button>` : ''}
      </div></td>` : ''}
    </tr>`)}</tbody>
  </table></div>`;
}

/** The form that issues a key: plan and an optional name. */
export function issueForm(plans, submit, busy) {
  return html`<form class="inline" @submit=${submit} data-testid="issue-key">
    <label>Plan<select name="plan" required>${plans.map((p) => html`<option value=${p.name}>${p.displayName} (${count(p.monthlyQuota)} calls/month, ${p.maxKeys} keys)</option>`)}</select></label>
    <label>Name (optional)<input name="name" maxlength="100" autocomplete="off"></label>
    <button type="submit" aria-busy=${busy ? 'true' : 'false'}>Issue key</button>
  </form>`;
}

/** Billable calls this month per key of a customer (one usage query per key: quota is counted per key). */
export async function usedThisMonth(get, customerId, keys, month) {
  const used = new Map();
  await Promise.all(keys.filter((k) => k.status !== 'revoked').map(async (k) => {
    const report = await get('/usage', { customerId, keyId: k.id, from: month.from, to: month.to, granularity: 'day' });
    used.set(k.id, report.total);
  }));
  return used;
}
