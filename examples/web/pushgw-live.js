// pushgw-live.js — a dependency-free browser client for pushgw live web delivery
// (platform `web`): GET /events (Server-Sent Events) or GET /ws (WebSocket).
//
//   import { connect } from './pushgw-live.js';
//   const live = connect({
//     url: 'https://push.example.com',  // the pushgw instance (or the load balancer in front)
//     channels: ['user:42'],            // omitted = every channel the token allows
//     getToken: () => fetch('/pushgw-token').then((r) => r.text()),  // or token: '<jwt>'
//     transport: 'sse',                 // or 'ws'
//     lastId: localStorage.lastId,      // optional: resume after a page reload
//     onMessage: (msg) => console.log(msg.id, msg.channel, msg.notification),
//     onStatus: (status, detail) => console.log(status, detail),
//   });
//   live.close();      // for good
//   live.reconnect();  // now, resuming from the last message seen; reconnect({url}) moves instance
//
// Statuses: 'connecting', 'open', 'reconnecting' (detail: {code, reason, delay}), 'closed'.
// Every message is delivered once, in id order per channel, across reconnects.

const DEFAULTS = {
  transport: 'sse',
  minDelay: 500, // ms; first reconnect waits 0..minDelay, then doubles
  maxDelay: 30000, // ms; cap, so a long outage is retried twice a minute, not hammered
  refreshMargin: 30, // s; a token expiring sooner than this is refreshed before connecting
};

// Redis stream ids are "<ms>-<seq>"; BigInt because seq may exceed 2^53.
function parseId(id) {
  const m = /^(\d+)-(\d+)$/.exec(String(id));
  return m ? [BigInt(m[1]), BigInt(m[2])] : null;
}

/** Compares two message ids numerically (ms, then seq): -1, 0 or 1. */
export function compareIds(a, b) {
  const [x, y] = [parseId(a), parseId(b)];
  if (!x || !y) throw new TypeError(`pushgw-live: not a message id: ${x ? b : a}`);
  if (x[0] !== y[0]) return x[0] < y[0] ? -1 : 1;
  return x[1] === y[1] ? 0 : x[1] < y[1] ? -1 : 1;
}

// True when the JWT's exp is (nearly) past. The payload is read, not verified: the
// server verifies; this only spares a connection that would be refused anyway.
function expiresSoon(token, marginSeconds) {
  try {
    const part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    const { exp } = JSON.parse(atob(part));
    return typeof exp === 'number' && exp * 1000 - Date.now() < marginSeconds * 1000;
  } catch {
    return false;
  }
}

export function connect(options) {
  const opts = { ...DEFAULTS, ...options };
  const getToken = opts.getToken || opts.onTokenExpired;
  if (!opts.url) throw new TypeError('pushgw-live: url is required');
  if (!opts.token && !getToken) throw new TypeError('pushgw-live: token or getToken is required');
  const channels = Array.isArray(opts.channels) ? opts.channels.join(',') : opts.channels || '';

  let token = opts.token || null;
  let needToken = !token; // set when the server (probably) rejected the token
  let lastId = opts.lastId || null; // resume cursor: the highest id delivered on any channel
  const seen = new Map(); // channel -> highest id delivered on it, for de-duplication
  let current = null; // the EventSource or WebSocket in use
  let generation = 0; // bumped on every (re)connect: late events of a replaced transport are ignored
  let attempt = 0;
  let timer = null;
  let closed = false;

  const status = (s, detail) => opts.onStatus && opts.onStatus(s, detail);

  function endpoint(path, params) {
    // Relative to the base URL so a path prefix (https://host/pushgw/) is kept.
    const base = new URL(String(opts.url).replace(/\/?$/, '/'), globalThis.location?.href);
    const u = new URL(path, base);
    if (path === 'ws') u.protocol = { 'https:': 'wss:', 'http:': 'ws:' }[u.protocol] || u.protocol;
    for (const [k, v] of Object.entries(params)) if (v) u.searchParams.set(k, v);
    return u.href;
  }

  function deliver(raw) {
    let msg;
    try {
      msg = JSON.parse(raw);
    } catch {
      return console.warn('pushgw-live: ignoring a message that is not JSON:', raw);
    }
    if (!msg || !parseId(msg.id)) return console.warn('pushgw-live: ignoring a message without a valid id:', raw);
    // Ids grow within a channel's stream, so "not newer than the last one delivered on this
    // channel" means a repeat: a resume replays from the cursor, and the replay can overlap
    // what the old connection delivered just before it went away.
    const floor = seen.get(msg.channel) ?? opts.lastId;
    if (floor && compareIds(msg.id, floor) <= 0) return;
    seen.set(msg.channel, msg.id);
    if (!lastId || compareIds(msg.id, lastId) > 0) lastId = msg.id;
    if (opts.onMessage) opts.onMessage(msg);
  }

  function teardown() {
    clearTimeout(timer);
    if (current) current.close();
    current = null;
  }

  // Full jitter: a random wait in [0, cap) so clients cut off together do not return together.
  function backoff() {
    return Math.random() * Math.min(opts.maxDelay, opts.minDelay * 2 ** attempt++);
  }

  // Connections refused in a row. The browser hides why; a resume id older than the channels'
  // history is refused every time (400), so after a few refusals the id goes: the 'reset'
  // status tells the app it may have missed messages (reload what it shows from the backend).
  let refusedInARow = 0;
  function refused() {
    if (++refusedInARow >= 3 && lastId) {
      status('reset', { reason: 'resume id refused: messages may have been missed', lastId });
      lastId = null;
    }
  }

  function schedule(delay, detail = {}) {
    clearTimeout(timer);
    status('reconnecting', { ...detail, delay: Math.round(delay) });
    timer = setTimeout(open, delay);
  }

  async function open() {
    const gen = ++generation;
    teardown();
    status('connecting');
    if (getToken && (needToken || !token || expiresSoon(token, opts.refreshMargin))) {
      try {
        token = await getToken();
        needToken = false;
      } catch (error) {
        if (gen === generation && !closed) schedule(backoff(), { reason: `getToken failed: ${error}` });
        return;
      }
    }
    if (gen !== generation || closed) return; // close() or reconnect() ran while we awaited the token
    (opts.transport === 'ws' ? openWs : openSse)(gen);
  }

  function openSse(gen) {
    // EventSource cannot send headers: the token goes in the query. The cursor goes there too
    // because a new EventSource starts without Last-Event-ID; the browser's own reconnects of
    // this EventSource then send the Last-Event-ID header with the newest id.
    const es = new EventSource(endpoint('events', { channels, token, last_event_id: lastId }));
    current = es;
    es.onopen = () => {
      if (gen !== generation) return;
      attempt = 0;
      refusedInARow = 0;
      status('open');
    };
    es.addEventListener('notification', (e) => gen === generation && deliver(e.data));
    es.onerror = () => {
      if (gen !== generation) return;
      // CONNECTING: the stream broke and the browser retries by itself (with Last-Event-ID).
      if (es.readyState === EventSource.CONNECTING) return status('reconnecting', { reason: 'stream interrupted' });
      // CLOSED: the server refused (401/403/400/503) and EventSource gave up. It hides the
      // status, and a 401 is the one a new token fixes, so fetch one (when we can) and retry.
      needToken = true;
      current = null;
      refused();
      schedule(backoff(), { reason: 'refused' });
    };
  }

  function openWs(gen) {
    const ws = new WebSocket(endpoint('ws', { channels, token, last_id: lastId }));
    current = ws;
    let opened = false;
    ws.onopen = () => {
      if (gen !== generation) return;
      opened = true;
      attempt = 0;
      refusedInARow = 0;
      status('open');
    };
    ws.onmessage = (e) => gen === generation && typeof e.data === 'string' && deliver(e.data);
    ws.onclose = (e) => {
      if (gen !== generation) return;
      current = null;
      if (!opened) refused();
      const detail = { code: e.code, reason: e.reason };
      if (e.code === 4401) {
        // Token expired mid-connection: only a new token helps.
        if (!getToken) return status('closed', { ...detail, reason: 'token expired and no getToken' });
        needToken = true;
        schedule(backoff(), detail);
      } else if (e.code === 1001) {
        // The instance is shutting down: come back promptly (the load balancer sends us to
        // another one); the short jitter spreads its clients over a moment.
        schedule(Math.random() * opts.minDelay, detail);
      } else {
        // 4408 (too slow), 1006 (refused before the upgrade, network loss), anything else.
        schedule(backoff(), detail);
      }
    };
  }

  open();
  return {
    close() {
      if (closed) return;
      closed = true;
      generation++;
      teardown();
      status('closed');
    },
    reconnect(changes = {}) {
      if (closed) return;
      if (changes.url) opts.url = changes.url;
      attempt = 0;
      open();
    },
    get lastId() {
      return lastId;
    },
  };
}
