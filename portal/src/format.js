// How numbers and times read: the viewer's locale and time zone, UTC on hover.
import { html } from 'lit-html';

const numbers = new Intl.NumberFormat(undefined);
const times = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const days = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' });

/** 1234567 → "1,234,567" (in the viewer's locale). */
export const count = (n) => numbers.format(n ?? 0);

/** A <time> in local time with the UTC instant as its title (hover). */
export function time(iso, dayOnly = false) {
  if (!iso) return html`<span class="muted">—</span>`;
  const at = new Date(iso);
  return html`<time datetime=${at.toISOString()} title=${`${at.toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC')}`}>${(dayOnly ? days : times).format(at)}</time>`;
}

let skew = 0;

/** Follows the server's clock: the quota month is the gateway's UTC month, not the viewer's. */
export function setServerNow(iso) { skew = iso ? Date.parse(iso) - Date.now() : 0; }

/** Now by the server's clock. */
export const now = () => new Date(Date.now() + skew);

/** A UTC date (yyyy-mm-dd) for a Date. */
export const utcDay = (d) => d.toISOString().slice(0, 10);

/** The first day of the current UTC month and the first day of the next, as yyyy-mm-dd. */
export function currentMonth(at = now()) {
  const start = new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), 1));
  const end = new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth() + 1, 1));
  return { from: utcDay(start), to: utcDay(end) };
}

/** 1234.5, "usd" → "$1,234.50" (in the viewer's locale). */
export const money = (amount, currency) => new Intl.NumberFormat(undefined, { style: 'currency', currency: (currency ?? 'usd').toUpperCase() }).format(amount ?? 0);

/** The current UTC month as yyyy-mm (the value of an <input type="month">). */
export const monthOf = (at = now()) => at.toISOString().slice(0, 7);
