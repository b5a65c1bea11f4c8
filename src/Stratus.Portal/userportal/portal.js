// The end-user portal: sign in with a cookie, list my Cloud PCs, act on them. Every call is the public API.
const $ = id => document.getElementById(id);

async function api(method, path, body) {
  const response = await fetch(path, {
    method,
    credentials: 'same-origin',
    headers: body ? { 'content-type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  const json = text ? JSON.parse(text) : null;
  if (!response.ok) {
    const errors = json?.errors ? Object.values(json.errors).flat().join(' ') : '';
    const error = new Error(errors || json?.detail || `${response.status} ${response.statusText}`);
    error.status = response.status;
    throw error;
  }
  return json;
}

const statusText = {
  provisioned: 'Ready', provisioning: 'Setting up', inGracePeriod: 'In grace period', deprovisioning: 'Being removed',
  failed: 'Failed', resizing: 'Resizing', restoring: 'Restoring', notProvisioned: 'Not set up',
};
const powerText = { running: 'Running', poweredOff: 'Powered off', unknown: 'Starting' };

function show(section) {
  for (const id of ['signin', 'home']) $(id).hidden = id !== section;
}

async function start() {
  try {
    const me = await api('GET', '/api/v1/me');
    $('who').textContent = me.displayName || me.userName || me.name || '';
    $('who').hidden = false;
    $('signout').hidden = false;
    show('home');
    await refresh();
    setInterval(refresh, 5000);
  } catch (e) {
    if (e.status === 401) { show('signin'); $('username').focus(); } else { show('home'); fail(e); }
  }
}

function fail(e) {
  $('home-error').textContent = e.message;
  $('home-error').hidden = false;
}

async function refresh() {
  let page;
  try {
    page = await api('GET', '/api/v1/me/cloudPCs');
    $('home-error').hidden = true;
  } catch (e) {
    if (e.status === 401) { location.reload(); return; }
    fail(e);
    return;
  }
  const cards = $('cards');
  cards.replaceChildren(...page.value.map(card));
  $('empty').hidden = page.value.length > 0;
}

function card(pc) {
  const node = $('card').content.firstElementChild.cloneNode(true);
  node.dataset.id = pc.id;
  node.querySelector('.name').textContent = pc.displayName;
  node.querySelector('.device').textContent = pc.managedDeviceName;
  const status = node.querySelector('.status');
  status.textContent = statusText[pc.status] ?? pc.status;
  status.className = `status pill ${pc.status}`;
  node.querySelector('.power').textContent = powerText[pc.powerState] ?? pc.powerState;
  node.querySelector('.plan').textContent = pc.servicePlanName;
  node.querySelector('.region').textContent = pc.regionName;
  if (pc.statusDetail) {
    const detail = node.querySelector('.detail');
    detail.textContent = pc.statusDetail.message;
    detail.hidden = false;
  }
  const usable = (pc.status === 'provisioned' || pc.status === 'inGracePeriod');
  const connect = node.querySelector('.connect');
  connect.disabled = !(usable && pc.powerState === 'running');
  connect.title = connect.disabled ? 'Available once the Cloud PC is ready and running' : '';
  connect.addEventListener('click', () => window.open(`/console.html?id=${pc.id}`, `console-${pc.id}`));
  const restart = node.querySelector('.restart');
  restart.disabled = pc.status !== 'provisioned';
  restart.addEventListener('click', async () => {
    if (!confirm(`Restart ${pc.managedDeviceName}? Unsaved work in it is lost.`)) return;
    try { await api('POST', `/api/v1/me/cloudPCs/${pc.id}/reboot`, {}); await refresh(); } catch (e) { fail(e); }
  });
  node.querySelector('.rename').addEventListener('click', async () => {
    const name = prompt('New name for this Cloud PC', pc.displayName);
    if (!name || name === pc.displayName) return;
    try { await api('POST', `/api/v1/me/cloudPCs/${pc.id}/rename`, { displayName: name }); await refresh(); } catch (e) { fail(e); }
  });
  return node;
}

$('signin-form').addEventListener('submit', async event => {
  event.preventDefault();
  $('signin-error').hidden = true;
  try {
    await api('POST', '/api/v1/auth/signin', { userName: $('username').value, password: $('password').value });
    location.reload();
  } catch (e) {
    $('signin-error').textContent = e.message;
    $('signin-error').hidden = false;
  }
});

$('signout').addEventListener('click', async () => {
  await api('POST', '/api/v1/auth/signout');
  location.reload();
});

start();
