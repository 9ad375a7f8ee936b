// The status page: shows /health and opens a WebSocket with a pasted token to show the live frames.
const $ = (id) => document.getElementById(id);

async function showHealth() {
  try {
    const res = await fetch('/health');
    $('health').textContent = `HTTP ${res.status}\n${JSON.stringify(await res.json(), null, 2)}`;
  } catch (e) {
    $('health').textContent = `unreachable: ${e.message}`;
  }
}

$('connect').addEventListener('submit', (e) => {
  e.preventDefault();
  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws?token=${encodeURIComponent($('token').value.trim())}`;
  const ws = new WebSocket(url);
  const log = (line) => { $('log').textContent += `${line}\n`; };
  ws.onopen = () => { log('open'); ws.send(JSON.stringify({ type: 'ping', ref: 'hello' })); };
  ws.onmessage = (m) => log(`← ${m.data}`);
  ws.onclose = (c) => log(`closed ${c.code} ${c.reason}`);
});

showHealth();
setInterval(showHealth, 5000);
