// Sends N notifications to pushgw-sim with apns2 (undici HTTP/2 pool, 32 connections when
// keepAlive), every send started at once as its README shows with sendMany.
// Minimal patch, documented: apns2 builds its pool for https://<host>:443 with no port option,
// so after construction the pool is replaced by the same undici Pool pointed at the
// simulator's port. The simulator's certificate is trusted through NODE_EXTRA_CA_CERTS.
// Prints {"sent", "ok", "seconds"} as JSON.
const { ApnsClient, Notification } = require('apns2');
const undici = require('undici');
const fs = require('fs');

const [port, key, n] = [Number(process.argv[2]), process.argv[3], Number(process.argv[4] || 200000)];
const token = (i) => '12' + i.toString(16).padStart(62, '0');

async function main() {
  const client = new ApnsClient({
    team: 'DEF123GHIJ', keyId: 'ABC123DEFG', signingKey: fs.readFileSync(key), defaultTopic: 'com.example.demo',
    host: '127.0.0.1', keepAlive: true,
  });
  client.client = new undici.Pool(`https://127.0.0.1:${port}`, {
    connections: 32, pipelining: 1, allowH2: true, maxConcurrentStreams: 100,  // apns2's own settings
  });
  const start = Date.now();
  const notes = [];
  for (let i = 0; i < n; i++) {
    notes.push(new Notification(token(i), { alert: { title: 'bench' }, data: { bench_enqueued_ms: Date.now() } }));
  }
  const results = await client.sendMany(notes);
  const ok = results.filter((r) => !r.error).length;
  console.log(JSON.stringify({ sent: n, ok, seconds: (Date.now() - start) / 1000 }));
  await client.close?.();
  process.exit(0);
}
main().catch((e) => { console.error(e); process.exit(1); });
