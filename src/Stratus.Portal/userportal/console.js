// The browser console: a single-use ticket from the gateway, then noVNC on the gateway's WebSocket.
import RFB from '/novnc/core/rfb.js';

const $ = id => document.getElementById(id);
const id = new URLSearchParams(location.search).get('id');
let rfb = null;
let wanted = true;
let sampler = null;

function state(text, kind) {
  $('state').textContent = text;
  $('state').className = `pill ${kind}`;
  // Keys and text only make sense with a display to send them to.
  for (const button of ['paste', 'keys', 'fullscreen']) $(button).disabled = kind !== 'provisioned';
}

function message(text) {
  $('message').textContent = text;
  $('message').hidden = !text;
}

// Round-trip times for the session's quality report: the gateway times how fast its probe comes back.
async function sampleRoundTrip(session) {
  try {
    const response = await fetch(`/api/v1/me/sessions/${session}/roundTripProbes`, { method: 'POST', credentials: 'same-origin' });
    if (!response.ok) return;
    const { probe } = await response.json();
    await fetch(`/api/v1/me/sessions/${session}/roundTripSamples`, {
      method: 'POST', credentials: 'same-origin', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ probe }),
    });
  } catch { /* a missed sample is no reason to disturb the console */ }
}

async function connect() {
  $('reconnect').hidden = true;
  message('');
  state('Connecting…', 'provisioning');
  let ticket;
  try {
    const pc = await fetch(`/api/v1/me/cloudPCs/${id}`, { credentials: 'same-origin' });
    if (pc.ok) {
      const body = await pc.json();
      $('title').textContent = `${body.displayName} (${body.managedDeviceName})`;
      document.title = `Stratus · ${body.managedDeviceName}`;
    }
    const response = await fetch(`/api/v1/me/cloudPCs/${id}/connect`, { method: 'POST', credentials: 'same-origin' });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) {
      const reason = response.status === 401 ? 'Your session ended: sign in again on the portal.'
        : response.status === 404 ? 'This Cloud PC does not exist or is not yours.'
        : body.detail || `The gateway refused the connection (${response.status}).`;
      throw new Error(reason);
    }
    ticket = body;
  } catch (e) {
    state('Not connected', 'failed');
    message(e.message);
    $('reconnect').hidden = false;
    return;
  }

  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${ticket.webSocketPath}`;
  rfb = new RFB($('screen'), url, { shared: true });
  rfb.scaleViewport = true;
  rfb.resizeSession = false;
  rfb.focusOnClick = true;
  rfb.addEventListener('connect', () => {
    state('Connected', 'provisioned');
    rfb.focus();
    sampleRoundTrip(ticket.sessionId);
    sampler = setInterval(() => sampleRoundTrip(ticket.sessionId), 10000);
  });
  rfb.addEventListener('disconnect', event => {
    rfb = null;
    clearInterval(sampler);
    if (!wanted) return;
    // A restart of the Cloud PC closes its display for a moment: say so and offer to reconnect, not an error page.
    state(event.detail.clean ? 'Disconnected' : 'Connection lost', 'inGracePeriod');
    message('The connection to your Cloud PC closed. If it is restarting, reconnect in a few seconds.');
    $('reconnect').hidden = false;
  });
  rfb.addEventListener('securityfailure', event => message(`The display refused the connection: ${event.detail.reason}`));
}

$('reconnect').addEventListener('click', connect);
$('fullscreen').addEventListener('click', () => $('screen').requestFullscreen?.());
$('keys').addEventListener('click', () => rfb?.sendCtrlAltDel());
$('paste').addEventListener('click', () => $('paste-dialog').showModal());
$('paste-send').addEventListener('click', () => {
  // Typed key by key: a VNC console has no clipboard of its own to paste from.
  for (const ch of $('paste-text').value) {
    const keysym = ch === '\n' ? 0xff0d : ch.codePointAt(0) < 0x100 ? ch.codePointAt(0) : 0x01000000 + ch.codePointAt(0);
    rfb?.sendKey(keysym, null);
  }
  $('paste-text').value = '';
  rfb?.focus();
});
window.addEventListener('beforeunload', () => { wanted = false; rfb?.disconnect(); });

if (!id) {
  state('Not connected', 'failed');
  message('No Cloud PC chosen: open the console from the portal.');
} else {
  connect();
}
