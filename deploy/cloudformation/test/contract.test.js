'use strict';
// The templates agree with the service contract (contract.json): ports, health checks,
// environment variable names, secret wiring, launch types and the timing chain -- with the
// template defaults and with every environment's parameter file.

const test = require('node:test');
const assert = require('node:assert/strict');
const { ENVIRONMENTS, template, params, contract, format } = require('./support');
const { checkIngressContract, checkAgentContract, findContainer, envEntries } = require('./lib/contract');

const ingress = template('ingress.yaml').template;
const edge = template('edge.yaml').template;
const c = contract();

// Parameters without defaults get the dev values, so "defaults" means the template's own defaults.
function requiredOnly(tpl, values) {
  return Object.fromEntries(Object.entries(values).filter(([k]) => tpl.Parameters[k] && tpl.Parameters[k].Default === undefined));
}

test('contract.json is self-consistent', () => {
  const ports = [...Object.values(c.ingress.ports), ...Object.values(c.agent.ports)];
  assert.equal(new Set(ports).size, ports.length, 'ports overlap');
  assert.deepEqual(c.ingress.ports, { public: 8080, management: 8081, tunnel: 8082 });
  assert.deepEqual(c.agent.ports, { management: 8091 });
  assert.equal(c.ingress.tunnelPath, '/tunnel');
  assert.ok(c.ingress.env[c.tunnelTokenEnv].secret && c.agent.env[c.tunnelTokenEnv].secret);
  for (const side of ['ingress', 'agent']) {
    for (const p of Object.values(c[side].paths)) assert.match(p, /^\/actuator\//);
    for (const name of Object.keys(c[side].env)) assert.match(name, /^[A-Z][A-Z0-9_]*$/);
  }
  assert.ok(new RegExp(c.agent.routesPattern).test('app.example.com=http://127.0.0.1:8080,*.apps.example.com=http://127.0.0.1:9000'));
  assert.ok(new RegExp(c.agent.routesPattern).test('app.example.com/api=http://127.0.0.1:8080'));
  assert.ok(!new RegExp(c.agent.routesPattern).test('app.example.com'));
  assert.ok(new RegExp(c.agent.routesPattern).test(
    'app.example.com=http://127.0.0.1:8080;health-check.path=/healthz?full=1;health-check.interval=5s,b.example.com=http://127.0.0.1:9000'));
  assert.ok(!new RegExp(c.agent.routesPattern).test('app.example.com=http://127.0.0.1:8080;health=/healthz'));
  assert.ok(new RegExp(c.agent.routesPattern).test('grpc.example.com=http://127.0.0.1:50051;protocol=h2c'));
});

test('ingress.yaml matches the contract with its defaults', () => {
  const errors = checkIngressContract(ingress, c, requiredOnly(ingress, params('dev', 'ingress').values));
  assert.deepEqual(errors, [], format(errors));
});

test('edge.yaml matches the contract with its defaults', () => {
  const errors = checkAgentContract(edge, c, requiredOnly(edge, params('dev', 'edge').values));
  assert.deepEqual(errors, [], format(errors));
});

for (const env of ENVIRONMENTS) {
  test(`ingress.yaml matches the contract with params/${env}-ingress.json`, () => {
    const errors = checkIngressContract(ingress, c, params(env, 'ingress').values);
    assert.deepEqual(errors, [], format(errors));
  });
  test(`edge.yaml matches the contract with params/${env}-edge.json`, () => {
    const errors = checkAgentContract(edge, c, params(env, 'edge').values);
    assert.deepEqual(errors, [], format(errors));
  });
}

test('both task definitions inject the tunnel token from Secrets Manager as TUNNEL_TOKEN', () => {
  for (const [tpl, name] of [[ingress, c.ingress.container], [edge, c.agent.container]]) {
    const { container } = findContainer(tpl, name);
    const secrets = container.Secrets.map((s) => s.Name);
    assert.deepEqual(secrets, [c.tunnelTokenEnv]);
    assert.ok(!envEntries(container).some((e) => e.name === c.tunnelTokenEnv));
  }
  // Ingress: the stack's own secret. Edge: the same secret, by parameter or ingress export.
  assert.deepEqual(findContainer(ingress, c.ingress.container).container.Secrets[0].ValueFrom, { Ref: 'TunnelTokenSecret' });
  assert.equal(ingress.Outputs.TunnelTokenSecretArn.Value.Ref, 'TunnelTokenSecret');
  const edgeFrom = JSON.stringify(findContainer(edge, c.agent.container).container.Secrets[0].ValueFrom);
  assert.match(edgeFrom, /TunnelTokenSecretArn/);
  assert.match(JSON.stringify(ingress.Outputs.TunnelTokenSecretArn.Export), /-TunnelTokenSecretArn/);
});

test('every edge import names an export of the ingress stack', () => {
  const exported = Object.values(ingress.Outputs).filter((o) => o.Export).map((o) => o.Export.Name['Fn::Sub'].replace('${AWS::StackName}', ''));
  const imports = [...JSON.stringify(edge).matchAll(/"Fn::ImportValue":\{"Fn::Sub":"\$\{IngressStackName\}([^"]+)"\}/g)].map((m) => m[1]);
  assert.ok(imports.length > 0);
  for (const suffix of new Set(imports)) assert.ok(exported.includes(suffix), `edge imports ${suffix}, ingress exports ${exported}`);
});
