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

// A Cloud PC that is restarting, or a service that is briefly away, refuses for a moment: the page tries again
// by itself a few times (as a remote desktop client does) before it asks the person to.
const retryDelays = [2, 4, 8, 15];

function transient(status, body) {
  return status === 502 || status === 503 || status === 504
    || (status === 409 && typeof body.type === 'string' && body.type.endsWith('/display-unreachable'));
}

async function connect(attempt = 0) {
  $('reconnect').hidden = true;
  if (attempt === 0) message('');
  state(attempt === 0 ? 'Connecting…' : 'Reconnecting…', 'provisioning');

  const retryOr = (text) => {
    const delay = retryDelays[attempt];
    if (delay === undefined) {
      state('Not connected', 'failed');
      message(text);
      $('reconnect').hidden = false;
      return;
    }
    message(`${text} This page tries again in ${delay} s (attempt ${attempt + 2} of ${retryDelays.length + 1}).`);
    setTimeout(() => { if (wanted) connect(attempt + 1); }, delay * 1000);
  };

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
      if (transient(response.status, body)) {
        retryOr(reason);
        return;
      }
      state('Not connected', 'failed');
      message(reason);
      $('reconnect').hidden = false;
      return;
    }
    ticket = body;
  } catch {
    // fetch itself failed: the network or the portal is away for a moment.
    retryOr('The portal cannot be reached.');
    return;
  }

  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${ticket.webSocketPath}`;
  let connected = false;
  let refused = false;
  // The ticket travels as a WebSocket subprotocol, never in the URL, which logs and history keep.
  rfb = new RFB($('screen'), url, { shared: true, wsProtocols: ticket.webSocketProtocols });
  rfb.scaleViewport = true;
  rfb.resizeSession = false;
  rfb.focusOnClick = true;
  rfb.addEventListener('connect', () => {
    connected = true;
    state('Connected', 'provisioned');
    message('');
    rfb.focus();
    sampleRoundTrip(ticket.sessionId);
    sampler = setInterval(() => sampleRoundTrip(ticket.sessionId), 10000);
  });
  rfb.addEventListener('disconnect', event => {
    rfb = null;
    clearInterval(sampler);
    if (!wanted) return;
    if (refused) {
      state('Not connected', 'failed');
      $('reconnect').hidden = false;
      return;
    }
    if (!connected) {
      // The display did not answer (the gateway refused the WebSocket): the same as a refused Connect.
      retryOr('The Cloud PC\'s display did not answer; it may be restarting.');
      return;
    }
    // A restart of the Cloud PC closes its display for a moment: say so and offer to reconnect, not an error page.
    state(event.detail.clean ? 'Disconnected' : 'Connection lost', 'inGracePeriod');
    message('The connection to your Cloud PC closed. If it is restarting, reconnect in a few seconds.');
    $('reconnect').hidden = false;
  });
  rfb.addEventListener('securityfailure', event => {
    refused = true;
    message(`The display refused the connection: ${event.detail.reason}`);
  });
}

$('reconnect').addEventListener('click', () => connect());
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
