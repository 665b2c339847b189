// Sign-in. With Entra ID configured: "Sign in with Microsoft" (MSAL.js, by redirect). On one machine: the admin token
// or a role token is pasted once; the gateway answers with an HttpOnly session cookie. The pasted token is never kept
// by the portal (not in storage, not in the URL).
import { html } from 'lit-html';
import { offersTokenSignIn, post } from '../api.js';
import { entraEnabled, signInWithMicrosoft } from '../entra.js';
import { problem } from '../ui.js';

export function signIn(ctx) {
  let error = null;
  let busy = false;
  let leaving = false;
  const microsoft = async () => {
    leaving = true; draw();
    try { await signInWithMicrosoft(); } catch (e) { leaving = false; error = e; draw(); }
  };
  const submit = async (event) => {
    event.preventDefault();
    const form = event.target;
    const token = form.elements.token.value;
    busy = true; error = null; draw();
    try {
      await post('/session', { token });
      form.reset();
      await ctx.signedIn();
    } catch (e) {
      error = e; busy = false; draw();
    }
  };
  const draw = () => ctx.show(html`
    <article class="signin">
      <h1>Sign in</h1>
      ${entraEnabled() ? html`
        <section aria-labelledby="entra-title" data-testid="entra-signin">
          <h2 id="entra-title">Your organisation's account</h2>
          ${ctx.refusal ? html`<p class="error" role="alert" data-testid="entra-refused">The admin API refused this Microsoft sign-in: ${ctx.refusal.message}</p>` : ''}
          ${offersTokenSignIn() ? '' : problem(error)}
          <button type="button" @click=${microsoft} aria-busy=${leaving ? 'true' : 'false'} ?disabled=${leaving}>Sign in with Microsoft</button>
        </section>` : ''}
      ${offersTokenSignIn() ? tokenForm() : ''}
    </article>`);
  const tokenForm = () => html`
      ${entraEnabled() ? html`<h2>With a token</h2>` : ''}
      <p>Paste the admin token (printed by <code>scripts/run.sh</code> or set as <code>GATEWAY_ADMIN_TOKEN</code>) or a role
        token an admin issued with <code>POST /admin/v1/tokens</code>. It is checked once and not stored: the session is a
        cookie this browser's scripts cannot read.</p>
      <form @submit=${submit}>
        <label for="token">Token</label>
        <input id="token" name="token" type="password" autocomplete="off" spellcheck="false" required
               aria-describedby="token-help" aria-invalid=${error ? 'true' : 'false'}>
        <small id="token-help">Admin token, or a role token for admin, compliance or developer.</small>
        ${problem(error)}
        <button type="submit" aria-busy=${busy ? 'true' : 'false'} ?disabled=${busy}>Sign in</button>
      </form>`;
  draw();
}
