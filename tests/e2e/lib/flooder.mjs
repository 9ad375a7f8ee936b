// flooder: a hostile client in its own process (so that its busy loop does not slow the test's own
// clients): CONNECTIONS connections, each sending frames as fast as the socket takes them and
// reconnecting whenever the bridge closes it (at once, or after the Retry-After of a refused
// upgrade), until SECONDS pass. Prints one JSON line of counts.
//   node flooder.mjs WS_URL TOKEN ROOM SECONDS CONNECTIONS
import WebSocket from 'ws';

const [url, token, room, seconds, connections] = process.argv.slice(2);
const endAt = Date.now() + Number(seconds) * 1000;
const counts = { connections: 0, refused: {}, sent: 0, rateLimited: 0, otherErrors: 0, replies: 0, closes: {} };
const TYPE = process.env.FLOOD_TYPE || 'send';
const frame = (i) => JSON.stringify({ type: TYPE, room, ref: `f${i}`, body: 'flood' });
const BURST = 500; // frames queued per turn, then wait for the socket to drain

function floodOnce() {
  return new Promise((resolve) => {
    const ws = new WebSocket(`${url}?token=${encodeURIComponent(token)}`);
    counts.connections++;
    let open = false;
    const pump = () => {
      if (!open || Date.now() > endAt) return ws.close();
      for (let i = 1; i < BURST; i++) ws.send(frame(counts.sent++));
      // Once this (and all before it) is written; setImmediate lets incoming data be read between turns.
      ws.send(frame(counts.sent++), () => setImmediate(pump));
    };
    ws.on('open', () => { open = true; pump(); });
    ws.on('message', (data) => {
      const f = JSON.parse(data.toString());
      if (f.type === 'error' && f.code === 'RATE_LIMITED') counts.rateLimited++;
      else if (f.type === 'error') counts.otherErrors++;
      else if (f.type === 'reply') counts.replies++;
    });
    ws.on('unexpected-response', (req, res) => { // the upgrade was refused: try again when told
      counts.connections--;
      counts.refused[res.statusCode] = (counts.refused[res.statusCode] || 0) + 1;
      const wait = Math.min(Number(res.headers['retry-after']) || 0, Math.max(0, (endAt - Date.now()) / 1000));
      res.resume();
      req.destroy();
      setTimeout(resolve, wait * 1000);
    });
    ws.on('error', () => {});
    ws.on('close', (code) => {
      if (!open) return resolve(); // an upgrade that never completed
      open = false;
      counts.closes[code] = (counts.closes[code] || 0) + 1;
      resolve();
    });
  });
}

async function loop() {
  while (Date.now() < endAt) await floodOnce();
}

await Promise.all(Array.from({ length: Number(connections) }, loop));
process.stdout.write(`${JSON.stringify(counts)}\n`);
