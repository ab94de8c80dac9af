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

// ---------------------------------------------------------------- ingress: the optional NLB (TcpListeners)
// With TcpListeners (name=port, at most two) the ingress stack adds an NLB: a TCP listener and an ip
// target group with PROXY protocol v2 per route, the service registered in each, the ports mapped and
// open from the NLB's security group only, and INGRESS_TCP_LISTENERS / INGRESS_TCP_PROXY_PROTOCOL=true.

const { ENVIRONMENTS, params, contract, format } = require('./support');
const { checkParameterValues, effectiveParameters, evaluate, evaluateCondition } = require('./lib/checker');
const { checkIngressContract, findContainer, resolveList } = require('./lib/contract');

const ingress = template('ingress.yaml').template;
const c = contract();
const clone = (o) => JSON.parse(JSON.stringify(o));
const ONE = 'ssh=2222';
const TWO = 'ssh=2222,redis=6380';
const withTcp = (env, tcp) => ({ ...params(env, 'ingress').values, TcpListeners: tcp });
const ctxOf = (tpl, values) => ({ template: tpl, params: effectiveParameters(tpl, values) });
const containerOf = (tpl) => findContainer(tpl, c.ingress.container).container;
const envOf = (tpl, values) => Object.fromEntries(resolveList(containerOf(tpl).Environment, ctxOf(tpl, values))
  .map((e) => [e.Name, evaluate(e.Value, ctxOf(tpl, values))]));
const deployedNames = (tpl, values) => Object.entries(tpl.Resources)
  .filter(([, r]) => !r.Condition || evaluateCondition(r.Condition, ctxOf(tpl, values)) !== false).map(([n]) => n);
const TCP_RESOURCES = ['NlbSecurityGroup', 'NlbToTasksTcp1', 'NlbToTasksTcp2', 'TaskIngressTcp1FromNlb', 'TaskIngressTcp2FromNlb',
  'NetworkLoadBalancer', 'TcpTargetGroup1', 'TcpListener1', 'TcpTargetGroup2', 'TcpListener2'];

function expectContract(errors, pattern) {
  assert.ok(errors.some((e) => pattern.test(e)), `expected a contract error matching ${pattern}; got:\n  ${errors.join('\n  ')}`);
}

test('TcpListeners accepts one or two name=port routes and nothing else', () => {
  const p = new RegExp(ingress.Parameters.TcpListeners.AllowedPattern);
  for (const ok of ['', 'ssh=2222', 'ssh=2222,redis=6380', 'db_1=5432', 'a-b=65535']) assert.match(ok, p, ok);
  for (const bad of ['ssh', 'ssh=', 'SSH=2222', 'a.b=2222', 'ssh=2222,', 'ssh=22', 'ssh=0222', 'ssh=2222;idle-timeout=2h',
    'a=2222,b=2223,c=2224', 'ssh=2222 ', 'ssh=123456', 'web=8080', 'ssh=2222,m=8081']) {
    assert.doesNotMatch(bad, p, bad);
  }
  // ports: exactly 1024-65535 (a non-root ingress), without the ingress's own 8080-8083
  const own = Object.values({ ...c.ingress.ports, ...c.ingress.internalPorts });
  for (let port = 0; port <= 70000; port++) {
    const expected = port >= 1024 && port <= 65535 && !own.includes(port);
    assert.equal(p.test(`r=${port}`), expected, `r=${port}`);
    if (port % 997 === 0) assert.equal(p.test(`a=2222,r=${port}`), expected, `second entry a=2222,r=${port}`);
  }
  assert.equal(ingress.Parameters.TcpListeners.Default, '');
});

test('without TcpListeners (the default, dev, prod) nothing of the NLB is deployed and the ingress gets no TCP setting', () => {
  for (const values of [{}, params('dev', 'ingress').values, params('prod', 'ingress').values]) {
    const names = deployedNames(ingress, values);
    for (const r of TCP_RESOURCES) assert.ok(!names.includes(r), r);
    const env = envOf(ingress, values);
    assert.equal(env.INGRESS_TCP_LISTENERS, undefined);
    assert.equal(env.INGRESS_TCP_PROXY_PROTOCOL, undefined);
    const ctx = ctxOf(ingress, values);
    assert.deepEqual(resolveList(containerOf(ingress).PortMappings, ctx).map((m) => m.ContainerPort), [8080, 8081, 8082, 8083]);
    assert.equal(resolveList(ingress.Resources.IngressService.Properties.LoadBalancers, ctx).length, 3);
    assert.equal(evaluateCondition(ingress.Outputs.NetworkLoadBalancerDnsName.Condition, ctx), false);
  }
  // every TCP resource is conditional on its route
  for (const r of TCP_RESOURCES) assert.match(ingress.Resources[r].Condition, /^HasTcpRoute[12]$/, r);
});

test('one route: the NLB, route 1 only, the port taken from TcpListeners', () => {
  const values = withTcp('dev', ONE);
  const names = deployedNames(ingress, values);
  for (const r of TCP_RESOURCES) assert.equal(names.includes(r), !r.includes('2'), r);
  const ctx = ctxOf(ingress, values);
  assert.equal(String(evaluate(ingress.Resources.TcpListener1.Properties.Port, ctx)), '2222');
  assert.equal(String(evaluate(ingress.Resources.TcpTargetGroup1.Properties.Port, ctx)), '2222');
  assert.deepEqual(envOf(ingress, values).INGRESS_TCP_LISTENERS, ONE);
  assert.deepEqual(envOf(ingress, values).INGRESS_TCP_PROXY_PROTOCOL, 'true');
});

test('two routes: both listeners on their own ports; the service stays within five target groups', () => {
  const values = withTcp('prod', TWO);
  const ctx = ctxOf(ingress, values);
  for (const r of TCP_RESOURCES) assert.ok(deployedNames(ingress, values).includes(r), r);
  assert.equal(String(evaluate(ingress.Resources.TcpListener1.Properties.Port, ctx)), '2222');
  assert.equal(String(evaluate(ingress.Resources.TcpListener2.Properties.Port, ctx)), '6380');
  assert.equal(resolveList(ingress.Resources.IngressService.Properties.LoadBalancers, ctx).length, 5);
  assert.deepEqual(resolveList(containerOf(ingress).PortMappings, ctx).map((m) => String(evaluate(m.ContainerPort, ctx))),
    ['8080', '8081', '8082', '8083', '2222', '6380']);
});

for (const env of ENVIRONMENTS) {
  for (const tcp of [ONE, TWO]) {
    test(`params/${env}-ingress.json with TcpListeners=${tcp}: valid parameters and the contract holds`, () => {
      const values = withTcp(env, tcp);
      const problems = checkParameterValues(ingress, values);
      assert.deepEqual(problems, [], format(problems));
      const errors = checkIngressContract(ingress, c, values);
      assert.deepEqual(errors, [], format(errors));
    });
  }
}

test('a mutated NLB fails the contract check', () => {
  const values = withTcp('dev', TWO);
  const check = (mutate) => {
    const t = clone(ingress);
    mutate(t);
    return checkIngressContract(t, c, values);
  };
  const attrs = (t, n) => t.Resources[`TcpTargetGroup${n}`].Properties.TargetGroupAttributes;

  expectContract(check((t) => { attrs(t, 1).find((a) => a.Key === 'proxy_protocol_v2.enabled').Value = 'false'; }),
    /TcpTargetGroup1: proxy_protocol_v2.enabled must be true/);
  expectContract(check((t) => { t.Resources.TcpTargetGroup2.Properties.TargetGroupAttributes = attrs(t, 2).filter((a) => a.Key !== 'proxy_protocol_v2.enabled'); }),
    /TcpTargetGroup2: proxy_protocol_v2.enabled must be true/);
  expectContract(check((t) => { t.Resources.TcpListener2.Properties.Port = 6381; }),
    /TcpListener2: port 6381 is no TCP route's port/);
  expectContract(check((t) => { t.Resources.TcpTargetGroup1.Properties.Port = 2223; }),
    /TcpTargetGroup1: Port must be the route's port 2222/);
  expectContract(check((t) => { t.Resources.TcpTargetGroup1.Properties.TargetType = 'instance'; }),
    /TcpTargetGroup1: TargetType must be ip/);
  expectContract(check((t) => { t.Resources.TcpTargetGroup1.Properties.HealthCheckProtocol = 'HTTP'; }),
    /TcpTargetGroup1: HealthCheckProtocol must be TCP/);
  expectContract(check((t) => { t.Resources.NetworkLoadBalancer.Properties.Scheme = 'internal'; }),
    /NetworkLoadBalancer: must be internet-facing/);
  expectContract(check((t) => { t.Resources.NetworkLoadBalancer.Properties.Subnets = { Ref: 'TaskSubnetIds' }; }),
    /NetworkLoadBalancer: must be in the ALB's public subnets/);
  expectContract(check((t) => { delete t.Resources.NetworkLoadBalancer.Properties.SecurityGroups; }),
    /NetworkLoadBalancer: needs a security group/);
  // the ingress is not told to read PROXY headers, or not told its listeners
  expectContract(check((t) => { containerOf(t).Environment = containerOf(t).Environment.filter((e) => !JSON.stringify(e).includes('INGRESS_TCP_PROXY_PROTOCOL')); }),
    /INGRESS_TCP_PROXY_PROTOCOL must be set when the NLB exists/);
  expectContract(check((t) => { containerOf(t).Environment = containerOf(t).Environment.filter((e) => !JSON.stringify(e).includes('INGRESS_TCP_LISTENERS')); }),
    /INGRESS_TCP_LISTENERS must be set when the NLB exists/);
  // the service not registered on the route's port, the port not mapped
  expectContract(check((t) => { t.Resources.IngressService.Properties.LoadBalancers.pop(); }),
    /IngressService: must register ingress-service port 6380 in TcpTargetGroup2/);
  expectContract(check((t) => { containerOf(t).PortMappings.pop(); }),
    /no port mapping for TCP route redis \(6380\)/);
  // a sixth target group
  expectContract(check((t) => {
    t.Resources.IngressService.Properties.LoadBalancers.push({ ContainerName: 'ingress-service', ContainerPort: 8082, TargetGroupArn: { Ref: 'TunnelTargetGroup' } });
  }), /IngressService: 6 target groups; an ECS service takes at most 5/);
  // security groups: the NLB reaching more than the routes' ports, a route not open, clients on other ports
  expectContract(check((t) => { Object.assign(t.Resources.TaskIngressTcp1FromNlb.Properties, { FromPort: 2222, ToPort: 8083 }); }),
    /TaskIngressTcp1FromNlb: the NLB security group may reach the TCP routes' ports \(2222, 6380\) only/);
  expectContract(check((t) => { delete t.Resources.TaskIngressTcp2FromNlb; }),
    /TCP route redis \(6380\) is not open to the NLB security group/);
  expectContract(check((t) => { Object.assign(t.Resources.NlbToTasksTcp1.Properties, { FromPort: 0, ToPort: 65535 }); }),
    /NlbToTasksTcp1: the NLB's egress must be the tasks' TCP route ports only/);
  expectContract(check((t) => { t.Resources.NlbSecurityGroup.Properties.SecurityGroupIngress[0] = { IpProtocol: '-1', CidrIp: '0.0.0.0/0' }; }),
    /NlbSecurityGroup\/SecurityGroupIngress\/0: the NLB security group admits clients on the TCP route ports only/);
  expectContract(check((t) => {
    t.Resources.TaskIngressFromAnywhere = { Type: 'AWS::EC2::SecurityGroupIngress', Condition: 'HasTcpRoute1',
      Properties: { GroupId: { 'Fn::GetAtt': ['TaskSecurityGroup', 'GroupId'] }, IpProtocol: 'tcp', FromPort: 2222, ToPort: 2222, CidrIp: '0.0.0.0/0' } };
  }), /TaskIngressFromAnywhere: task ingress must come from a security group, never a CIDR/);
  // the service created before a listener forwards to its TCP target group
  expectContract(check((t) => { t.Resources.IngressService.Metadata.TcpListenersFirst['Fn::If'][1] = [{ Ref: 'TcpListener1' }]; }),
    /IngressService: must depend on TcpListener2/);
  expectContract(check((t) => { delete t.Resources.IngressService.Metadata; }),
    /IngressService: must depend on TcpListener1/);
  expectContract(check((t) => { delete t.Outputs.NetworkLoadBalancerDnsName; }),
    /no output gives NetworkLoadBalancer.DNSName/);
});

test('TCP settings without the NLB, or an NLB route on an ingress port, fail the contract check', () => {
  // the environment made unconditional: set although no NLB exists
  const always = clone(ingress);
  containerOf(always).Environment = containerOf(always).Environment.map((e) => (e['Fn::If'] && e['Fn::If'][0] === 'HasTcpRoute1' ? e['Fn::If'][1] : e));
  const errors = checkIngressContract(always, c, params('dev', 'ingress').values);
  expectContract(errors, /INGRESS_TCP_LISTENERS is set but there is no NLB/);
  expectContract(errors, /INGRESS_TCP_PROXY_PROTOCOL is set but there is no NLB/);
  // a target group left unconditional
  const orphan = clone(ingress);
  delete orphan.Resources.TcpTargetGroup2.Condition;
  expectContract(checkIngressContract(orphan, c, params('dev', 'ingress').values), /TcpTargetGroup2: a TCP target group without an NLB/);
  // a route on the public port: passes the parameter pattern, the contract refuses it
  const own = checkIngressContract(ingress, c, withTcp('dev', 'web=8080'));
  expectContract(own, /TCP route web on 8080, one of the ingress's own ports/);
});

test('every Fn::Select over TcpListeners stays in bounds for any value, also in resources not created', () => {
  // Fn::Select fails the stack on an index out of bounds; do not rely on CloudFormation skipping a branch
  const selects = [];
  const walk = (v) => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      if (v['Fn::Select'] && JSON.stringify(v).includes('TcpListeners')) selects.push(v);
      Object.values(v).forEach(walk);
    }
  };
  walk(ingress);
  assert.ok(selects.length >= 10, `found ${selects.length}`);
  const { UNRESOLVED } = require('./lib/checker');
  for (const tcp of ['', ONE, TWO, 'a=100', 'a-b_c=65535,x=1000']) {
    const ctx = ctxOf(ingress, { ...params('dev', 'ingress').values, TcpListeners: tcp });
    for (const s of selects) assert.notEqual(evaluate(s, ctx), UNRESOLVED, `${tcp}: ${JSON.stringify(s)}`);
  }
  const ctx = ctxOf(ingress, withTcp('dev', TWO));
  assert.equal(evaluateCondition('HasTcpRoute2', ctx), true);
  assert.equal(evaluateCondition('HasTcpRoute2', ctxOf(ingress, withTcp('dev', ONE))), false);
  assert.equal(evaluateCondition('HasTcpRoute2', ctxOf(ingress, withTcp('dev', ''))), false);
});
