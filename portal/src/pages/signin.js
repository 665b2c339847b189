// Sign-in on one machine: the admin token or a role token is pasted once; the gateway answers with an HttpOnly session
// cookie. The token is never kept by the portal (not in storage, not in the URL).
import { html } from 'lit-html';
import { post } from '../api.js';
import { problem } from '../ui.js';

export function signIn(ctx) {
  let error = null;
  let busy = false;
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
      </form>
    </article>`);
  draw();
}
