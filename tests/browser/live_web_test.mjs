#!/usr/bin/env node
// Real-browser test of live web delivery: headless Chromium opens examples/web/index.html,
// which connects to pushgw over EventSource and WebSocket with examples/web/pushgw-live.js;
// notifications POSTed to /push must show up in both lists exactly once, across forced
// reconnects (resume by last id) and a move to a second instance (fan-out through Redis).
//
// Usage (flags win over the environment):
//   node tests/browser/live_web_test.mjs --a URL [--b URL] --api-key KEY --secret S [--port N]
//   env: PUSHGW_A_URL, PUSHGW_B_URL, PUSHGW_API_KEY, PUSHGW_WEB_SECRET, STATIC_PORT (0 = any),
//        SCREENSHOT (png path written on failure), CHROMIUM (default /usr/bin/chromium),
//        CHANNEL (default user:1), WAIT_MS (each wait's bound, default 20000)
// Both daemons need web.enabled, web.secret = the secret, and web.allowed_origins either []
// or containing http://127.0.0.1:<port>. API key may be empty when api_keys is [].
// Exit: 0 pass, 1 fail, 2 usage, 77 Chromium or node_modules missing (a wrapper's SKIP).

import { createHmac, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { access, constants, readFile } from 'node:fs/promises';
import { dirname, extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));
const webRoot = resolve(here, '../../examples/web');

const { values: flags } = parseArgs({
  options: {
    a: { type: 'string' },
    b: { type: 'string' },
    'api-key': { type: 'string' },
    secret: { type: 'string' },
    port: { type: 'string' },
  },
});
const env = process.env;
const cfg = {
  a: flags.a ?? env.PUSHGW_A_URL,
  b: flags.b ?? env.PUSHGW_B_URL,
  apiKey: flags['api-key'] ?? env.PUSHGW_API_KEY ?? '',
  secret: flags.secret ?? env.PUSHGW_WEB_SECRET,
  port: Number(flags.port ?? env.STATIC_PORT ?? 0),
  chromium: env.CHROMIUM || '/usr/bin/chromium',
  channel: env.CHANNEL || 'user:1',
  waitMs: Number(env.WAIT_MS || 20000),
  screenshot: env.SCREENSHOT,
};

function skip(why) {
  console.error(`SKIP: ${why}`);
  process.exit(77);
}

if (!cfg.a || !cfg.secret || !Number.isInteger(cfg.port)) {
  console.error('usage: live_web_test.mjs --a URL [--b URL] --api-key KEY --secret S [--port N]\n' +
    '       (or PUSHGW_A_URL, PUSHGW_B_URL, PUSHGW_API_KEY, PUSHGW_WEB_SECRET, STATIC_PORT)');
  process.exit(2);
}
try {
  await access(cfg.chromium, constants.X_OK);
} catch {
  skip(`no Chromium at ${cfg.chromium} (apt-get install -y chromium, or set CHROMIUM)`);
}
let chromium;
try {
  ({ chromium } = await import('playwright-core'));
} catch {
  skip(`playwright-core is not installed: run "npm ci" in ${here}`);
}

// --- helpers ---------------------------------------------------------------------------

const b64url = (x) => Buffer.from(typeof x === 'string' ? x : JSON.stringify(x)).toString('base64url');

function mintToken(secret, claims) {
  const unsigned = `${b64url({ alg: 'HS256', typ: 'JWT' })}.${b64url(claims)}`;
  return `${unsigned}.${createHmac('sha256', secret).update(unsigned).digest('base64url')}`;
}

// Polls `probe` until it returns a truthy value; fails naming what it waited for.
async function waitFor(what, probe, ms = cfg.waitMs) {
  const deadline = Date.now() + ms;
  let last;
  for (;;) {
    last = await probe();
    if (last) return last;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const types = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.css': 'text/css' };

function serveExamples(port) {
  const server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    const file = normalize(join(webRoot, path === '/' ? 'index.html' : path));
    if (!file.startsWith(webRoot + sep)) return res.writeHead(403).end();
    try {
      const body = await readFile(file);
      res.writeHead(200, { 'content-type': types[extname(file)] || 'application/octet-stream', 'cache-control': 'no-store' });
      res.end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  return new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(port, '127.0.0.1', () => ok(server));
  });
}

async function push(base, n) {
  const body = { notifications: [{ platform: 'web', tokens: [cfg.channel], title: `t${n}`, message: `hello ${n}` }] };
  const headers = { 'content-type': 'application/json' };
  if (cfg.apiKey) headers.authorization = `Bearer ${cfg.apiKey}`;
  const res = await fetch(new URL('push', base.replace(/\/?$/, '/')), { method: 'POST', headers, body: JSON.stringify(body) });
  const text = await res.text();
  if (res.status !== 202) throw new Error(`POST ${base}/push of "hello ${n}" answered ${res.status}: ${text}`);
  console.log(`pushed "hello ${n}" to ${base}: ${text}`);
}

// --- the test ----------------------------------------------------------------------------

const server = await serveExamples(cfg.port);
const origin = `http://127.0.0.1:${server.address().port}`;
const now = Math.floor(Date.now() / 1000);
const token = mintToken(cfg.secret, { sub: `browser-test-${randomBytes(3).toString('hex')}`, channels: [cfg.channel], iat: now, exp: now + 600 });

const browser = await chromium.launch({ executablePath: cfg.chromium, args: ['--no-sandbox'] });
const page = await browser.newPage();
const log = []; // the page's console, errors and connection attempts, printed on failure
page.on('console', (m) => log.push(`console.${m.type()}: ${m.text()}`));
page.on('pageerror', (e) => log.push(`pageerror: ${e.message}`));
page.on('requestfailed', (r) => log.push(`requestfailed: ${r.url()} ${r.failure()?.errorText}`));
const sseRequests = [];
const wsRequests = [];
page.on('request', (r) => new URL(r.url()).pathname.endsWith('/events') && sseRequests.push(r.url()));
page.on('websocket', (ws) => {
  wsRequests.push(ws.url());
  ws.on('close', () => log.push(`websocket closed: ${ws.url()}`));
});

const state = () => page.evaluate(() => {
  const list = (id) => [...document.querySelectorAll(`#${id} li`)].map((li) => ({
    id: li.dataset.id, title: li.querySelector('.title')?.textContent, message: li.querySelector('.message')?.textContent,
  }));
  const status = (id) => ({ status: document.getElementById(id).dataset.status, opens: Number(document.getElementById(id).dataset.opens), text: document.getElementById(id).textContent });
  return { sse: { ...status('sse-status'), list: list('sse-messages') }, ws: { ...status('ws-status'), list: list('ws-messages') } };
});

const both = ['sse', 'ws'];
// minOpens: {sse, ws} successful connections so far (data-opens), so a reconnect is seen as one.
const waitOpen = (minOpens, where) => waitFor(`both connections open (${where})`, async () => {
  const s = await state();
  return both.every((t) => s[t].status === 'open' && s[t].opens >= minOpens[t]);
});
const opensPlusOne = async () => {
  const s = await state();
  return { sse: s.sse.opens + 1, ws: s.ws.opens + 1 };
};
const waitMessages = (n) => waitFor(`"hello ${n}" in both lists`, async () => {
  const s = await state();
  return both.every((t) => s[t].list.some((m) => m.message === `hello ${n}`));
});

// Each list holds exactly hello 1..n, once each, with ascending ids; both transports saw the same ids.
async function expectExactly(n) {
  // Bounded quiet period: a duplicate from a replay would arrive right after the original.
  const until = Date.now() + 1500;
  while (Date.now() < until) {
    const s = await state();
    if (both.some((t) => s[t].list.length > n)) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const s = await state();
  const want = Array.from({ length: n }, (_, i) => `t${i + 1}: hello ${i + 1}`);
  for (const t of both) {
    const got = s[t].list.map((m) => `${m.title}: ${m.message}`);
    if (JSON.stringify(got) !== JSON.stringify(want)) {
      throw new Error(`${t} list should be exactly ${JSON.stringify(want)}, is ${JSON.stringify(s[t].list)}`);
    }
    const ids = s[t].list.map((m) => m.id.split('-').map(BigInt));
    if (ids.some((id, i) => i > 0 && (id[0] < ids[i - 1][0] || (id[0] === ids[i - 1][0] && id[1] <= ids[i - 1][1])))) {
      throw new Error(`${t} ids are not ascending: ${s[t].list.map((m) => m.id)}`);
    }
  }
  if (JSON.stringify(s.sse.list.map((m) => m.id)) !== JSON.stringify(s.ws.list.map((m) => m.id))) {
    throw new Error(`SSE and WebSocket saw different ids: ${s.sse.list.map((m) => m.id)} vs ${s.ws.list.map((m) => m.id)}`);
  }
  console.log(`ok: both lists hold exactly ${n} message(s): ${s.sse.list.map((m) => m.id).join(', ')}`);
  return s.sse.list.map((m) => m.id);
}

// A forced reconnect must resume from the last id seen (last_event_id / last_id parameter).
function expectResumeFrom(id, from) {
  const sse = sseRequests.slice(from.sse);
  const ws = wsRequests.slice(from.ws);
  if (!sse.some((u) => new URL(u).searchParams.get('last_event_id') === id)) {
    throw new Error(`the SSE reconnect did not send last_event_id=${id}: ${sse.join(' ')}`);
  }
  if (!ws.some((u) => new URL(u).searchParams.get('last_id') === id)) {
    throw new Error(`the WebSocket reconnect did not send last_id=${id}: ${ws.join(' ')}`);
  }
}

async function reconnectBoth() {
  await page.click('#reconnect-sse');
  await page.click('#reconnect-ws');
}

let failed = false;
try {
  const url = `${origin}/index.html?${new URLSearchParams({ pushgw: cfg.a, token, channels: cfg.channel })}`;
  console.log(`page: ${origin}/index.html?pushgw=${cfg.a}&channels=${cfg.channel} (Chromium ${browser.version()})`);
  await page.goto(url, { timeout: cfg.waitMs });
  await waitOpen({ sse: 1, ws: 1 }, `page loaded, instance ${cfg.a}`);

  await push(cfg.a, 1);
  await waitMessages(1);
  let ids = await expectExactly(1);

  // Seam 1: forced reconnect to the same instance, the next message sent while it happens.
  let opens = await opensPlusOne();
  let from = { sse: sseRequests.length, ws: wsRequests.length };
  await reconnectBoth();
  await push(cfg.a, 2);
  await waitOpen(opens, 'after the reconnect buttons');
  await waitMessages(2);
  expectResumeFrom(ids[0], from);
  ids = await expectExactly(2);

  // Seam 2: move to instance B (as after a 1001 going away); the message goes to A, so it
  // must reach B's clients through Redis, and B must resume from the id A handed out.
  if (cfg.b) {
    opens = await opensPlusOne();
    from = { sse: sseRequests.length, ws: wsRequests.length };
    await page.fill('#pushgw-url', cfg.b);
    await reconnectBoth();
    await push(cfg.a, 3);
    await waitOpen(opens, `after moving to instance ${cfg.b}`);
    await waitMessages(3);
    expectResumeFrom(ids[1], from);
    const onB = (u) => new URL(u).host === new URL(cfg.b).host;
    if (!sseRequests.slice(from.sse).every(onB) || !wsRequests.slice(from.ws).every(onB)) {
      throw new Error(`connections after the move did not all go to ${cfg.b}: ${[...sseRequests, ...wsRequests].join(' ')}`);
    }
    await expectExactly(3);
  } else {
    console.log('note: no instance B given (--b / PUSHGW_B_URL): the cross-instance step was skipped');
  }
  console.log('PASS: live web delivery in Chromium over SSE and WebSocket');
} catch (error) {
  failed = true;
  console.error(`FAIL: ${error.message}`);
  try {
    console.error(`page state: ${JSON.stringify(await state(), null, 1)}`);
  } catch {}
  const redact = (s) => s.replace(/token=[^&'\s]+/g, 'token=<jwt>');
  console.error(redact(`SSE requests:\n  ${sseRequests.join('\n  ')}\nWebSocket requests:\n  ${wsRequests.join('\n  ')}`));
  console.error(redact(`page log:\n  ${log.join('\n  ') || '(empty)'}`));
  if (cfg.screenshot) {
    await page.screenshot({ path: cfg.screenshot, fullPage: true }).catch((e) => console.error(`screenshot failed: ${e.message}`));
    console.error(`screenshot: ${cfg.screenshot}`);
  }
} finally {
  await browser.close().catch(() => {});
  server.close();
}
process.exit(failed ? 1 : 0);
