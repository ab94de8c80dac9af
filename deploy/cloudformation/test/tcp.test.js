'use strict';
// TCP routes in the edge stack: AgentTcpRoutes is optional and becomes AGENT_TCP_ROUTES only when set,
// in the syntax the agent parses (name=host:port[;health-check.interval=...], docs/tcp.md).

const test = require('node:test');
const assert = require('node:assert/strict');
const { template } = require('./support');

const edge = template('edge.yaml').template;
const pattern = new RegExp(edge.Parameters.AgentTcpRoutes.AllowedPattern);

test('AgentTcpRoutes accepts the agent syntax and nothing else', () => {
  for (const ok of ['', 'ssh=127.0.0.1:22', 'ssh=127.0.0.1:22,redis=127.0.0.1:6379',
    'db_1=localhost:5432;health-check.interval=10s;health-check.timeout=2s', 'v6=[::1]:22']) {
    assert.match(ok, pattern, ok);
  }
  for (const bad of ['ssh', 'ssh=127.0.0.1', 'SSH=127.0.0.1:22', 'a.b=127.0.0.1:22', 'ssh=127.0.0.1:22,',
    'ssh=http://127.0.0.1:22', 'ssh=127.0.0.1:22;protocol=h2c']) {
    assert.doesNotMatch(bad, pattern, bad);
  }
  assert.equal(edge.Parameters.AgentTcpRoutes.Default, '');
});

test('AGENT_TCP_ROUTES is set from AgentTcpRoutes only when it is not empty', () => {
  const container = edge.Resources.AgentTaskDefinition.Properties.ContainerDefinitions[0];
  const entry = container.Environment.find((e) => e && e['Fn::If'] && e['Fn::If'][0] === 'HasAgentTcpRoutes');
  assert.ok(entry, 'a conditional AGENT_TCP_ROUTES entry');
  assert.deepEqual(entry['Fn::If'][1], { Name: 'AGENT_TCP_ROUTES', Value: { Ref: 'AgentTcpRoutes' } });
  assert.deepEqual(entry['Fn::If'][2], { Ref: 'AWS::NoValue' });
  assert.deepEqual(edge.Conditions.HasAgentTcpRoutes, { 'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'AgentTcpRoutes' }, ''] }] });
});
