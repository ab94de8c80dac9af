// The ingress console: polls actuator/console (one small JSON document) and fills three tables.
// Every value goes in through textContent, never as HTML: agent ids and messages come from agents.
'use strict';

// often enough that an agent shows up within two seconds of registering; one small document each time
const POLL_MS = 1500;
let started = 0;
let timer = null;
let busy = false;

function el(tag, text, cls) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (cls) node.className = cls;
  return node;
}

function badge(text) {
  return el('span', text, 'badge ' + text);
}

function row(cells, attrs) {
  const tr = document.createElement('tr');
  for (const [name, value] of Object.entries(attrs || {})) tr.setAttribute(name, value);
  for (const cell of cells) {
    if (cell instanceof Node) {
      const td = document.createElement('td');
      td.appendChild(cell);
      tr.appendChild(td);
    } else {
      tr.appendChild(el('td', cell === null || cell === undefined ? '–' : cell,
        typeof cell === 'number' ? 'num' : undefined));
    }
  }
  return tr;
}

function fill(id, rows) {
  const body = document.querySelector('#' + id + ' tbody');
  body.replaceChildren(...rows);
  document.getElementById(id + '-empty').hidden = rows.length > 0;
  const count = document.getElementById(id.replace(/s$/, '') + '-count') || document.getElementById(id + '-count');
  if (count) count.textContent = '(' + rows.length + ')';
}

function since(iso) {
  const seconds = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  const ago = seconds < 90 ? seconds + ' s' : seconds < 5400 ? Math.round(seconds / 60) + ' min'
    : Math.round(seconds / 3600) + ' h';
  return new Date(iso).toLocaleString() + ' (' + ago + ' ago)';
}

function fixed(value, digits, suffix) {
  return value === null || value === undefined ? null : value.toFixed(digits) + (suffix || '');
}

function render(view) {
  const replica = view.replica;
  document.getElementById('replica-id').textContent = replica.replicaId;
  const readiness = document.getElementById('readiness');
  readiness.textContent = replica.draining ? 'draining' : 'ready';
  readiness.className = 'badge ' + (replica.draining ? 'draining' : 'ready');
  document.getElementById('cluster').textContent = replica.clusterEnabled
    ? 'cluster of ' + replica.replicaCount + ' replica(s)' : 'single ingress';

  fill('agents', view.agents.map(a => row([
    a.agentId,
    a.identity + (a.selfCheck === null ? '' : a.selfCheck ? ' · self-check ok' : ' · self-check off'),
    (a.version || '?') + ' · protocol ' + a.protocolVersion,
    a.tunnels + (a.drainingTunnels ? ' (' + a.drainingTunnels + ' draining)' : ''),
    a.replicaId,
    since(a.connectedSince),
    fixed(a.roundTripMillis, 1, ' ms'),
    a.activeStreams,
    a.routes.join(', ')
  ], {'data-agent-id': a.agentId})));

  let window = 30;
  fill('routes', view.routes.map(r => {
    if (r.windowSeconds) window = r.windowSeconds;
    const where = r.agents.length ? r.agents.join(', ') : r.replicas.length ? 'on ' + r.replicas.join(', ') : '–';
    return row([
      r.route, badge(r.health), where,
      fixed(r.requestsPerSecond, 2),
      r.errorRatio === null ? null : (r.errorRatio * 100).toFixed(1) + ' %',
      r.p99Millis === null ? null : '≤ ' + fixed(r.p99Millis, r.p99Millis < 10 ? 1 : 0, ' ms')
    ], {'data-route': r.route, 'data-health': r.health});
  }));
  document.getElementById('window').textContent = window;

  fill('rejected', view.rejectedHellos.map(r => row([
    since(r.at), r.agentId, r.remoteAddress, r.reason, r.message
  ])));
}

async function poll() {
  timer = null;
  if (busy) return;
  busy = true;
  // which poll is on screen, for tests that check an agent appears at the first poll after it registered
  const number = ++started;
  document.body.dataset.pollStarted = number;
  const status = document.getElementById('status');
  try {
    const response = await fetch('actuator/console', {headers: {'Accept': 'application/json'}, cache: 'no-store'});
    if (!response.ok) throw new Error('HTTP ' + response.status);
    render(await response.json());
    document.body.dataset.pollShown = number;
    status.textContent = 'updated ' + new Date().toLocaleTimeString();
    status.className = 'muted';
  } catch (e) {
    status.textContent = 'cannot reach the ingress: ' + e.message + ' (retrying)';
    status.className = 'badge error';
  }
  busy = false;
  schedule();
}

function schedule() {
  // a hidden tab does not poll: the console is meant to be left open
  if (!document.hidden && timer === null) timer = setTimeout(poll, POLL_MS);
}

document.addEventListener('visibilitychange', () => {
  if (!document.hidden && timer === null) poll();
});
poll();
