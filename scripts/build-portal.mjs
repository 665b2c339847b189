// Builds the portal (portal/src) into static files (portal/dist), the same files for the gateway's /portal/ and for the
// Static Web App:
//   assets/app-HASH.js    the ES module bundle: portal code, lit-html, Chart.js (esbuild, minified)
//   assets/app-HASH.css   Pico CSS and the portal's own rules
//   index.html            the shell, naming the two fingerprinted files (no inline script or style)
//   config.json           where the admin API is: {"apiBase": ""} = same origin (the gateway); never baked into code;
//                         and where callers reach the API ("dataPlaneUrl", --data-plane-url; the gateway answers
//                         its own config.json from Gateway:Portal:DataPlaneUrl); Entra ID sign-in ("entra":
//                         authority, client id, API scope from --entra-authority, --entra-client-id, --entra-scope;
//                         null: off) and whether the pasted-token form is offered ("tokenSignIn": not with Entra)
//   staticwebapp.config.json   headers for the Static Web App: the same CSP and cache lifetimes as the gateway's
// The output depends on the sources and the locked package versions only: the same inputs give the same bytes.
//
// Usage: node scripts/build-portal.mjs [--out DIR] [--api-base URL] [--data-plane-url URL]
//          [--entra-authority https://login.microsoftonline.com/TENANT/v2.0 --entra-client-id ID --entra-scope SCOPE]
//   (npm run build:portal; dotnet build runs it too, from proxy/Gateway.Proxy.csproj)
import { build } from 'esbuild';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const at = args.indexOf(name);
  return at >= 0 && at + 1 < args.length ? args[at + 1] : fallback;
};
const out = join(root, option('--out', 'portal/dist'));
const apiBase = option('--api-base', '');
if (apiBase !== '' && !/^https:\/\/[^/?#]+(\/[^?#]*)?$/.test(apiBase) && !apiBase.startsWith('/')) {
  console.error(`build-portal: --api-base must be an https:// URL or a path such as /api, not ${apiBase}`);
  process.exit(2);
}

const dataPlaneUrl = option('--data-plane-url', null);
if (dataPlaneUrl !== null && !/^https?:\/\/[^/?#]+(\/[^?#]*)?$/.test(dataPlaneUrl)) {
  console.error(`build-portal: --data-plane-url must be an http:// or https:// URL, not ${dataPlaneUrl}`);
  process.exit(2);
}

const entraAuthority = option('--entra-authority', null);
const entraClientId = option('--entra-client-id', null);
const entraScope = option('--entra-scope', null);
const entraGiven = [entraAuthority, entraClientId, entraScope].filter((v) => v !== null).length;
if (entraGiven !== 0 && entraGiven !== 3) {
  console.error('build-portal: Entra sign-in needs all three of --entra-authority, --entra-client-id and --entra-scope');
  process.exit(2);
}
if (entraAuthority !== null && !/^https:\/\/[^/?#]+(\/[^?#]*)?$/.test(entraAuthority)) {
  console.error(`build-portal: --entra-authority must be an https:// URL, not ${entraAuthority}`);
  process.exit(2);
}
const entra = entraGiven === 3 ? { authority: entraAuthority.replace(/\/$/, ''), clientId: entraClientId, scope: entraScope } : null;

await rm(out, { recursive: true, force: true });
await mkdir(out, { recursive: true });

const result = await build({
  absWorkingDir: root,
  entryPoints: ['portal/src/app.js', 'portal/src/app.css'],
  entryNames: 'assets/[name]-[hash]',
  outdir: out,
  bundle: true,
  format: 'esm',
  target: ['es2022'],
  minify: true,
  legalComments: 'none',
  metafile: true,
  logLevel: 'warning',
});

const outputs = {};
for (const [file, meta] of Object.entries(result.metafile.outputs)) {
  if (meta.entryPoint) {
    outputs[meta.entryPoint] = relative(out, join(root, file)).split('\\').join('/');
  }
}

const html = (await readFile(join(root, 'portal/src/index.html'), 'utf8'))
  .replace('{{app.js}}', outputs['portal/src/app.js'])
  .replace('{{app.css}}', outputs['portal/src/app.css']);
await writeFile(join(out, 'index.html'), html);
await writeFile(join(out, 'config.json'), JSON.stringify({ apiBase, dataPlaneUrl, entra, tokenSignIn: entra === null }, null, 2) + '\n');

// The Static Web App serves the same files at its root; its API (the function app) is another origin unless linked.
// MSAL.js fetches the Entra authority's metadata and redeems the code there: its origin only when Entra is on.
const apiOrigin = apiBase.startsWith('https://') ? new URL(apiBase).origin : '';
const csp = [
  "default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "font-src 'self'",
  `connect-src 'self'${apiOrigin ? ` ${apiOrigin}` : ''}${entra ? ` ${new URL(entra.authority).origin}` : ''}`, "manifest-src 'self'", "form-action 'self'",
  "frame-ancestors 'none'", "base-uri 'none'",
].join('; ');
const swa = {
  routes: [{ route: '/assets/*', headers: { 'Cache-Control': 'public, max-age=31536000, immutable' } }],
  globalHeaders: {
    'Content-Security-Policy': csp,
    'Cache-Control': 'no-cache',
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
    'Referrer-Policy': 'no-referrer',
  },
  mimeTypes: { '.json': 'application/json' },
};
await writeFile(join(out, 'staticwebapp.config.json'), JSON.stringify(swa, null, 2) + '\n');
console.log(`build-portal: ${relative(root, out)}: index.html, ${outputs['portal/src/app.js']}, ${outputs['portal/src/app.css']}`);
