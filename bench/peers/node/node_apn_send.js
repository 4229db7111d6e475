// Sends N notifications to pushgw-sim with @parse/node-apn, the way a Node shop would: one
// Provider with token auth, every send started at once (node-apn queues them over its HTTP/2
// connection). Uses node-apn's own `address`/`port`/`ca` options: no patch.
// Prints {"sent", "ok", "seconds"} as JSON.
const apn = require('@parse/node-apn');
const fs = require('fs');

const [port, ca, key, n] = [Number(process.argv[2]), process.argv[3], process.argv[4], Number(process.argv[5] || 200000)];
const token = (i) => 'ef' + i.toString(16).padStart(62, '0');

async function main() {
  const provider = new apn.Provider({
    token: { key: fs.readFileSync(key), keyId: 'ABC123DEFG', teamId: 'DEF123GHIJ' },
    production: true, address: '127.0.0.1', port, ca: fs.readFileSync(ca),
  });
  const start = Date.now();
  const sends = [];
  for (let i = 0; i < n; i++) {
    const note = new apn.Notification();
    note.alert = { title: 'bench' };
    note.topic = 'com.example.demo';
    note.payload = { bench_enqueued_ms: Date.now() };
    sends.push(provider.send(note, token(i)));
  }
  const results = await Promise.all(sends);
  const ok = results.reduce((sum, r) => sum + r.sent.length, 0);
  console.log(JSON.stringify({ sent: n, ok, seconds: (Date.now() - start) / 1000 }));
  provider.shutdown();
}
main().catch((e) => { console.error(e); process.exit(1); });
