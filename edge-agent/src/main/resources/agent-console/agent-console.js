// The agent's status page: polls actuator/agent and the readiness probe; values go in as text only.
'use strict';

const POLL_MS = 3000;

function cell(text, cls) {
  const td = document.createElement('td');
  if (cls) {
    const span = document.createElement('span');
    span.className = 'badge ' + cls;
    span.textContent = text;
    td.appendChild(span);
  } else {
    td.textContent = text === null || text === undefined || text === '' ? '–' : String(text);
  }
  return td;
}

function fill(id, rows) {
  document.querySelector('#' + id + ' tbody').replaceChildren(...rows.map(cells => {
    const tr = document.createElement('tr');
    tr.append(...cells);
    return tr;
  }));
}

async function poll() {
  const status = document.getElementById('status');
  try {
    const [agent, ready] = await Promise.all([
      fetch('actuator/agent', {cache: 'no-store'}).then(r => { if (!r.ok) throw new Error('HTTP ' + r.status); return r.json(); }),
      fetch('actuator/health/readiness', {cache: 'no-store'}).then(r => r.json()).catch(() => ({status: 'unknown'}))
    ]);
    document.getElementById('agent-id').textContent = agent.agentId;
    const readiness = document.getElementById('readiness');
    readiness.textContent = ready.status;
    readiness.className = 'badge ' + ready.status;
    document.getElementById('ingress').textContent = agent.ingress;
    document.getElementById('streams').textContent = agent.activeStreams;
    document.getElementById('tunnel-count').textContent =
      '(' + agent.tunnelsRegistered + ' of ' + agent.tunnelsWanted + ' registered)';
    fill('tunnels', Object.entries(agent.tunnels).map(([name, replica]) => [cell(name), cell(replica)]));
    fill('routes', agent.routes.map(r => [cell(r.route), cell(r.localUrl), cell(r.healthCheck || 'none'),
      cell(r.healthy ? 'healthy' : 'unhealthy', r.healthy ? 'healthy' : 'unhealthy')]));
    status.textContent = 'updated ' + new Date().toLocaleTimeString();
    status.className = 'muted';
  } catch (e) {
    status.textContent = 'cannot read the agent: ' + e.message;
    status.className = 'badge error';
  }
  setTimeout(poll, POLL_MS);
}

poll();
