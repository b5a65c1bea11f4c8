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
  failed: 'Failed', resizing: 'Resizing', restoring: 'Restoring…', notProvisioned: 'Not set up',
  recovering: 'Recovering…',
};
const kindText = { automatic: 'Automatic', manual: 'Manual' };

// What the signed-in user's setting allows (GET /api/v1/me/userSetting); re-read with the list.
let setting = null;
// Cloud PCs whose restore this page asked for: shown as restoring until the API reports them restoring and back,
// or, should the status not have moved yet, for a short while.
const restores = new Map();
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
    [page, setting] = await Promise.all([
      api('GET', '/api/v1/me/cloudPCs'),
      api('GET', '/api/v1/me/userSetting').catch(e => { if (e.status === 401) throw e; return setting; }),
    ]);
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
  const restoring = isRestoring(pc);
  const status = node.querySelector('.status');
  status.textContent = restoring ? statusText.restoring : (statusText[pc.status] ?? pc.status);
  status.className = `status pill ${restoring ? 'restoring' : pc.status}`;
  node.querySelector('.power').textContent = powerText[pc.powerState] ?? pc.powerState;
  node.querySelector('.plan').textContent = pc.servicePlanName;
  const dr = pc.disasterRecoveryStatus;
  const failedOver = dr && dr.status !== 'notFailedOver';
  node.querySelector('.region').textContent = failedOver ? `${dr.activeRegion} (backup region)` : pc.regionName;
  if (failedOver || pc.status === 'recovering') {
    const notice = node.querySelector('.dr');
    notice.textContent = recoveryText(pc);
    notice.dataset.status = failedOver ? dr.status : pc.status;
    notice.hidden = false;
  }
  // A recovery's detail is news, not an error: the notice above carries it.
  if (pc.statusDetail && pc.status !== 'recovering') {
    const detail = node.querySelector('.detail');
    detail.textContent = pc.statusDetail.message;
    detail.hidden = false;
  }
  const usable = !restoring && (pc.status === 'provisioned' || pc.status === 'inGracePeriod');
  const connect = node.querySelector('.connect');
  connect.disabled = !(usable && pc.powerState === 'running');
  connect.title = connect.disabled ? 'Available once the Cloud PC is ready and running' : '';
  connect.addEventListener('click', () => window.open(`/console.html?id=${pc.id}`, `console-${pc.id}`));
  const restart = node.querySelector('.restart');
  restart.disabled = restoring || pc.status !== 'provisioned';
  restart.addEventListener('click', async () => {
    if (!confirm(`Restart ${pc.managedDeviceName}? Unsaved work in it is lost.`)) return;
    try { await api('POST', `/api/v1/me/cloudPCs/${pc.id}/reboot`, {}); await refresh(); } catch (e) { fail(e); }
  });
  node.querySelector('.rename').addEventListener('click', async () => {
    const name = prompt('New name for this Cloud PC', pc.displayName);
    if (!name || name === pc.displayName) return;
    try { await api('POST', `/api/v1/me/cloudPCs/${pc.id}/rename`, { displayName: name }); await refresh(); } catch (e) { fail(e); }
  });
  const restore = node.querySelector('.restore');
  restore.hidden = !setting?.restorePointSetting?.userRestoreEnabled;
  restore.disabled = restoring || pc.status !== 'provisioned';
  restore.title = restore.disabled ? 'Available once the Cloud PC is ready' : 'Return the Cloud PC to a restore point';
  restore.addEventListener('click', () => openRestore(pc));
  return node;
}

// Disaster recovery (or the recovery from a lost host) in the user's words: where their Cloud PC is, and when it is usable.
function recoveryText(pc) {
  const dr = pc.disasterRecoveryStatus;
  const capability = pc.disasterRecoveryCapability;
  const since = dr?.changedDateTime ? ` since ${new Date(dr.changedDateTime).toLocaleString()}` : '';
  switch (dr?.status) {
    case 'failingOver':
      return `Disaster recovery: your Cloud PC is moving to its backup region, ${capability?.secondaryRegion ?? dr.activeRegion}. You can connect again once it is ready.`;
    case 'failedOver':
      return `Disaster recovery is active: your Cloud PC runs in its backup region, ${dr.activeRegion}${since}. It returns to ${capability?.primaryRegion ?? pc.regionName} with your files when that region is back.`;
    case 'failingBack':
      return `Disaster recovery: your Cloud PC is returning to ${capability?.primaryRegion ?? pc.regionName} with your files. You can connect again once it is ready.`;
    default:
      return `${pc.statusDetail?.message ?? 'Its host was lost; your Cloud PC is being made again on another host from a copy of its disk.'} You can connect again once it is ready.`;
  }
}

function isRestoring(pc) {
  const asked = restores.get(pc.id);
  if (asked) {
    if (pc.status === 'restoring') asked.seen = true;
    else if (asked.seen || Date.now() - asked.at > 20000) restores.delete(pc.id);
  }
  return pc.status === 'restoring' || restores.has(pc.id);
}

// The restore dialog: the Cloud PC's points newest first, one chosen, a confirmation, then the restore.
let restorePc = null;
let chosenPoint = null;

function when(iso) {
  return new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

async function openRestore(pc) {
  restorePc = pc;
  chosenPoint = null;
  $('restore-title').textContent = `Restore ${pc.managedDeviceName}`;
  $('restore-error').hidden = true;
  $('restore-empty').hidden = true;
  $('restore-confirm').hidden = true;
  $('restore-points').replaceChildren();
  $('restore-loading').hidden = false;
  $('restore-dialog').showModal();
  let points;
  try {
    points = (await api('GET', `/api/v1/me/cloudPCs/${pc.id}/snapshots`)).value;
  } catch (e) {
    $('restore-error').textContent = e.message;
    $('restore-error').hidden = false;
    return;
  } finally {
    $('restore-loading').hidden = true;
  }
  if (restorePc !== pc) return;
  points.sort((a, b) => new Date(b.createdDateTime) - new Date(a.createdDateTime));
  $('restore-empty').hidden = points.length > 0;
  $('restore-points').replaceChildren(...points.map(point => {
    const item = document.createElement('li');
    item.dataset.id = point.id;
    item.dataset.status = point.status;
    const text = document.createElement('span');
    text.className = 'when';
    const date = document.createElement('strong');
    date.textContent = when(point.createdDateTime);
    const kind = document.createElement('span');
    kind.className = 'kind';
    kind.textContent = (kindText[point.snapshotType] ?? point.snapshotType)
      + (point.status === 'creating' ? ' · being taken' : point.status === 'failed' ? ' · failed' : '');
    text.append(date, kind);
    const choose = document.createElement('button');
    choose.textContent = 'Restore';
    choose.className = 'choose';
    choose.disabled = point.status !== 'ready';
    choose.addEventListener('click', () => {
      chosenPoint = point;
      for (const li of $('restore-points').children) li.classList.toggle('selected', li === item);
      $('restore-when').textContent = when(point.createdDateTime);
      $('restore-error').hidden = true;
      $('restore-confirm').hidden = false;
      $('restore-go').focus();
    });
    item.append(text, choose);
    return item;
  }));
}

$('restore-back').addEventListener('click', () => {
  chosenPoint = null;
  $('restore-confirm').hidden = true;
  for (const li of $('restore-points').children) li.classList.remove('selected');
});

$('restore-go').addEventListener('click', async () => {
  if (!restorePc || !chosenPoint) return;
  const pc = restorePc;
  $('restore-go').disabled = true;
  try {
    await api('POST', `/api/v1/me/cloudPCs/${pc.id}/restore`, { cloudPcSnapshotId: chosenPoint.id });
    restores.set(pc.id, { at: Date.now(), seen: false });
    $('restore-dialog').close();
    await refresh();
  } catch (e) {
    $('restore-error').textContent = e.message;
    $('restore-error').hidden = false;
  } finally {
    $('restore-go').disabled = false;
  }
});

$('restore-dialog').addEventListener('close', () => { restorePc = null; chosenPoint = null; });

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
