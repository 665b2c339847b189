// Entra ID sign-in (production) with MSAL.js: authorization code with PKCE by redirect (no popups). MSAL keeps the
// tokens in its sessionStorage cache (this tab only, gone when it closes; never localStorage); the portal asks it for
// an access token before each admin API call and sends it as `Authorization: Bearer`. Off unless config.json names
// an authority, the portal's client id and the API scope.
import { BrowserCacheLocation, InteractionRequiredAuthError, PublicClientApplication } from '@azure/msal-browser';

let msal = null;
let scopes = [];
let account = null;

/** The portal's own address without query or hash: where Entra sends the browser back after sign-in and sign-out. */
const here = () => `${window.location.origin}${window.location.pathname}`;

/**
 * Starts MSAL when config.json enables Entra, and completes a sign-in the browser is coming back from (the code in
 * the URL's hash is redeemed, with the PKCE verifier, for tokens; MSAL then removes it from the URL).
 */
export async function startEntra(config) {
  if (!config) return;
  const authority = config.authority;
  msal = new PublicClientApplication({
    auth: {
      clientId: config.clientId,
      authority,
      // The authority is the one the API trusts (config.json): no instance discovery elsewhere.
      knownAuthorities: [new URL(authority).host],
      redirectUri: here(),
      postLogoutRedirectUri: here(),
    },
    cache: { cacheLocation: BrowserCacheLocation.SessionStorage },
  });
  scopes = [config.scope];
  await msal.initialize();
  const result = await msal.handleRedirectPromise();
  account = result?.account ?? msal.getAllAccounts()[0] ?? null;
}

/** True when this portal offers "Sign in with Microsoft". */
export const entraEnabled = () => msal !== null;

/** True when a Microsoft account is signed in in this tab. */
export const entraSignedIn = () => account !== null;

/** Leaves for the Microsoft sign-in page; the browser comes back to this page with a code. */
export const signInWithMicrosoft = () => msal.loginRedirect({ scopes, redirectStartPage: `${here()}#/` });

/** An access token for the admin API from MSAL's cache (renewed silently when it expires), or null when not signed in. */
export async function accessToken() {
  if (!account) return null;
  try {
    return (await msal.acquireTokenSilent({ scopes, account })).accessToken;
  } catch (e) {
    if (e instanceof InteractionRequiredAuthError) await msal.acquireTokenRedirect({ scopes, account });
    throw e;
  }
}

/** Clears MSAL's cache and signs out at Microsoft, which sends the browser back to the sign-in page. */
export async function signOutOfMicrosoft() {
  const leaving = account;
  account = null;
  await msal.logoutRedirect({ account: leaving, postLogoutRedirectUri: here() });
}
