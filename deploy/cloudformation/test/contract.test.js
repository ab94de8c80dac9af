'use strict';
// The templates agree with the service contract (contract.json): ports, health checks,
// environment variable names, secret wiring, launch types and the timing chain -- with the
// template defaults and with every environment's parameter file.

const test = require('node:test');
const assert = require('node:assert/strict');
const { ENVIRONMENTS, template, params, contract, format } = require('./support');
const { checkIngressContract, checkAgentContract, findContainer, envEntries, envNamesOf } = require('./lib/contract');
const { evaluate, effectiveParameters } = require('./lib/checker');

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
  assert.deepEqual(c.ingress.internalPorts, { cluster: 8083 });
  const all = [...ports, ...Object.values(c.ingress.internalPorts)];
  assert.equal(new Set(all).size, all.length, 'the cluster port overlaps another port');
  assert.deepEqual(c.agent.ports, { management: 8091 });
  assert.equal(c.ingress.tunnelPath, '/tunnel');
  assert.ok(c.ingress.unsetEnv[c.tunnelTokenEnv] && c.agent.unsetEnv[c.tunnelTokenEnv], 'the token is read from its secret, never injected');
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

test('both services read the tunnel token secret themselves; nothing injects TUNNEL_TOKEN', () => {
  for (const [tpl, side, idName] of [[ingress, 'ingress', 'INGRESS_AUTH_TOKEN_SECRET_ID'], [edge, 'agent', 'AGENT_TOKEN_SECRET_ID']]) {
    const { td, container } = findContainer(tpl, c[side].container);
    assert.ok(c[side].env[idName].secretId, `${idName} is the contract's secret id`);
    assert.ok(c[side].unsetEnv[c.tunnelTokenEnv]);
    assert.ok(!(container.Secrets || []).some((s) => s.Name === c.tunnelTokenEnv), `${side}: TUNNEL_TOKEN still injected`);
    assert.ok(!envEntries(container).some((e) => e.name === c.tunnelTokenEnv), `${side}: TUNNEL_TOKEN set`);
    const idExpr = envEntries(container).find((e) => e.name === idName).value;
    // the execution role (ECS injecting secrets at start) has no business with the token any more
    const exec = tpl.Resources[td.Properties.ExecutionRoleArn['Fn::GetAtt'][0]];
    assert.ok(!JSON.stringify(exec.Properties.Policies || []).includes(JSON.stringify(idExpr)), `${side}: execution role still reads the token`);
    // the task role reads it, with GetSecretValue and nothing else (DescribeSecret was never called)
    const task = tpl.Resources[td.Properties.TaskRoleArn['Fn::GetAtt'][0]];
    const st = task.Properties.Policies.flatMap((p) => p.PolicyDocument.Statement).filter((x) => JSON.stringify(x.Resource) === JSON.stringify(idExpr));
    assert.deepEqual(st.map((x) => x.Action), ['secretsmanager:GetSecretValue']);
  }
  assert.deepEqual(envEntries(findContainer(ingress, c.ingress.container).container).find((e) => e.name === 'INGRESS_AUTH_TOKEN_SECRET_ID').value, { Ref: 'TunnelTokenSecret' });
  assert.equal(ingress.Outputs.TunnelTokenSecretArn.Value.Ref, 'TunnelTokenSecret');
  assert.match(JSON.stringify(envEntries(findContainer(edge, c.agent.container).container).find((e) => e.name === 'AGENT_TOKEN_SECRET_ID').value), /TunnelTokenSecretArn/);
  assert.match(JSON.stringify(ingress.Outputs.TunnelTokenSecretArn.Export), /-TunnelTokenSecretArn/);
  // the ingress's only injected secret is the cluster key
  assert.deepEqual(findContainer(ingress, c.ingress.container).container.Secrets.map((s) => s.Name), ['INGRESS_CLUSTER_SECRET']);
  assert.equal(findContainer(edge, c.agent.container).container.Secrets, undefined);
});

test('every edge import names an export of the ingress stack', () => {
  const exported = Object.values(ingress.Outputs).filter((o) => o.Export).map((o) => o.Export.Name['Fn::Sub'].replace('${AWS::StackName}', ''));
  const imports = [...JSON.stringify(edge).matchAll(/"Fn::ImportValue":\{"Fn::Sub":"\$\{IngressStackName\}([^"]+)"\}/g)].map((m) => m[1]);
  assert.ok(imports.length > 0);
  for (const suffix of new Set(imports)) assert.ok(exported.includes(suffix), `edge imports ${suffix}, ingress exports ${exported}`);
});

// ---------------------------------------------------------------- replica cluster (issue 13)

const ingressContainer = findContainer(ingress, c.ingress.container).container;
const envOf = (name) => envEntries(ingressContainer).find((e) => e.name === name);

test('the env var names with a property are the Spring property names under relaxed binding', () => {
  const withProperty = Object.entries(c.ingress.env).filter(([, d]) => d.property);
  assert.deepEqual(withProperty.map(([n]) => n).sort(),
    ['INGRESS_CLUSTER_PORT', 'INGRESS_CLUSTER_REDIS_URL', 'INGRESS_CLUSTER_SECRET', 'INGRESS_DRAIN_WATCH_TASK',
      'INGRESS_ECS_HOSTS_TAG', 'INGRESS_POLICY_RULE_LIST', 'INGRESS_PROXY_H2C', 'INGRESS_TCP_LISTENERS', 'INGRESS_TCP_PROXY_PROTOCOL']);
  for (const [name, def] of Object.entries(c.agent.env).filter(([, d]) => d.property)) {
    assert.ok(envNamesOf(def.property).includes(name), `${name} vs ${def.property}`);
  }
  for (const [name, def] of withProperty) assert.ok(envNamesOf(def.property).includes(name), `${name} vs ${def.property}`);
  assert.deepEqual(envNamesOf('ingress.cluster.redis-url'), ['INGRESS_CLUSTER_REDISURL', 'INGRESS_CLUSTER_REDIS_URL']);
  assert.deepEqual(envNamesOf('ingress.drain.watch-task'), ['INGRESS_DRAIN_WATCHTASK', 'INGRESS_DRAIN_WATCH_TASK']);
  // the advertise address is left to the task metadata endpoint
  assert.ok(c.ingress.unsetEnv.INGRESS_CLUSTER_ADVERTISE_ADDRESS);
  assert.equal(envOf('INGRESS_CLUSTER_ADVERTISE_ADDRESS'), undefined);
});

test('the cluster secret is its own generated secret, injected by ECS and never a plain env var', () => {
  const entry = ingressContainer.Secrets.find((s) => s.Name === 'INGRESS_CLUSTER_SECRET');
  assert.deepEqual(entry.ValueFrom, { Ref: 'ClusterSecret' });
  assert.equal(envOf('INGRESS_CLUSTER_SECRET'), undefined);
  const secret = ingress.Resources.ClusterSecret;
  assert.equal(secret.Type, 'AWS::SecretsManager::Secret');
  assert.equal(secret.DeletionPolicy, 'Retain');
  assert.equal(secret.UpdateReplacePolicy, 'Retain');
  const gen = secret.Properties.GenerateSecretString;
  assert.ok(gen.PasswordLength >= c.ingress.env.INGRESS_CLUSTER_SECRET.minLength);
  assert.equal(gen.ExcludePunctuation, true);
  assert.notEqual(gen.IncludeSpace, true);
  // read by the ECS agent at task start (execution role), not by the application (task role)
  const grants = (role) => JSON.stringify(ingress.Resources[role].Properties.Policies).includes('"Ref":"ClusterSecret"');
  assert.ok(grants('IngressExecutionRole'));
  assert.ok(!grants('IngressTaskRole'));
});

test('the cluster port is mapped, set from the contract and open to ingress tasks only', () => {
  const port = c.ingress.internalPorts.cluster;
  assert.equal(Number(envOf('INGRESS_CLUSTER_PORT').value), port);
  assert.ok(ingressContainer.PortMappings.some((m) => m.ContainerPort === port));
  // in no target group and behind no listener
  for (const lb of ingress.Resources.IngressService.Properties.LoadBalancers) assert.notEqual(lb.ContainerPort, port);
  for (const [, r] of Object.entries(ingress.Resources).filter(([, x]) => x.Type === 'AWS::ElasticLoadBalancingV2::TargetGroup')) {
    assert.notEqual(r.Properties.Port, port);
  }
  const rules = Object.entries(ingress.Resources)
    .filter(([, r]) => r.Type === 'AWS::EC2::SecurityGroupIngress' || r.Type === 'AWS::EC2::SecurityGroupEgress')
    .map(([name, r]) => [name, r.Type, r.Properties])
    .concat(Object.entries(ingress.Resources).filter(([, r]) => r.Type === 'AWS::EC2::SecurityGroup')
      .flatMap(([name, r]) => [...(r.Properties.SecurityGroupIngress || []).map((x) => [name, 'inline ingress', { ...x, GroupId: name }]),
        ...(r.Properties.SecurityGroupEgress || []).map((x) => [name, 'inline egress', { ...x, GroupId: name }])]));
  const reaches = (p) => p.IpProtocol === '-1' || (Number(p.FromPort) <= port && port <= Number(p.ToPort));
  const onPort = rules.filter(([, , p]) => reaches(p));
  assert.deepEqual(onPort.map(([n]) => n).sort(), ['TaskEgressClusterToTasks', 'TaskIngressClusterFromTasks']);
  for (const [name, , p] of onPort) {
    assert.equal(p.CidrIp, undefined, name);
    assert.equal(p.CidrIpv6, undefined, name);
    assert.deepEqual(p.GroupId, { 'Fn::GetAtt': ['TaskSecurityGroup', 'GroupId'] }, name);
    assert.deepEqual(p.SourceSecurityGroupId || p.DestinationSecurityGroupId, { 'Fn::GetAtt': ['TaskSecurityGroup', 'GroupId'] }, name);
  }
  // nothing reaches the tasks from a CIDR on any port, and the ALB's egress stops below the cluster port
  const taskIngress = rules.filter(([, type, p]) => type.endsWith('ingress') || type === 'AWS::EC2::SecurityGroupIngress')
    .filter(([, , p]) => JSON.stringify(p.GroupId).includes('TaskSecurityGroup'));
  assert.ok(taskIngress.length >= 4);
  for (const [name, , p] of taskIngress) assert.ok(p.CidrIp === undefined && p.CidrIpv6 === undefined, name);
  assert.ok(Number(ingress.Resources.AlbToTasks.Properties.ToPort) < port);
});

test('the directory is ElastiCache Serverless for Valkey over TLS, reachable from the ingress tasks on 6379 only', () => {
  const cache = ingress.Resources.ClusterCache;
  assert.equal(cache.Type, 'AWS::ElastiCache::ServerlessCache');
  assert.equal(cache.Properties.Engine, 'valkey');
  assert.deepEqual(envOf('INGRESS_CLUSTER_REDIS_URL').value,
    { 'Fn::Sub': 'rediss://${ClusterCache.Endpoint.Address}:${ClusterCache.Endpoint.Port}' });
  assert.deepEqual(cache.Properties.SecurityGroupIds, [{ 'Fn::GetAtt': ['CacheSecurityGroup', 'GroupId'] }]);
  assert.deepEqual(cache.Properties.SubnetIds, { 'Fn::If': ['HasCacheSubnetIds', { Ref: 'CacheSubnetIds' }, { Ref: 'TaskSubnetIds' }] });
  const sg = ingress.Resources.CacheSecurityGroup.Properties;
  assert.equal(sg.SecurityGroupIngress, undefined);
  assert.deepEqual(sg.SecurityGroupEgress.map((r) => r.CidrIp), ['255.255.255.255/32'], 'the cache needs no egress');
  const inbound = Object.entries(ingress.Resources).filter(([, r]) => r.Type === 'AWS::EC2::SecurityGroupIngress'
    && JSON.stringify(r.Properties.GroupId).includes('CacheSecurityGroup'));
  assert.deepEqual(inbound.map(([n]) => n), ['CacheIngressFromTasks']);
  const rule = inbound[0][1].Properties;
  assert.deepEqual([rule.IpProtocol, rule.FromPort, rule.ToPort], ['tcp', c.ingress.cluster.cache.port, c.ingress.cluster.cache.port]);
  assert.deepEqual(rule.SourceSecurityGroupId, { 'Fn::GetAtt': ['TaskSecurityGroup', 'GroupId'] });
});

test('the drain signal: INGRESS_DRAIN_WATCH_TASK=true and ecs:DescribeTasks on this cluster\'s tasks', () => {
  assert.equal(envOf('INGRESS_DRAIN_WATCH_TASK').value, 'true');
  const st = ingress.Resources.IngressTaskRole.Properties.Policies[0].PolicyDocument.Statement.find((s) => s.Sid === 'DrainSignalOwnTask');
  assert.deepEqual(st.Action, 'ecs:DescribeTasks');
  assert.match(st.Resource['Fn::Sub'], /:task\/\$\{Cluster\}\/\*$/);
  assert.deepEqual(st.Condition, { ArnEquals: { 'ecs:cluster': { 'Fn::GetAtt': ['Cluster', 'Arn'] } } });
});

test(`DesiredCount is at least ${c.ingress.cluster.minDesiredCount} by default and in every environment`, () => {
  assert.ok(ingress.Parameters.DesiredCount.Default >= c.ingress.cluster.minDesiredCount);
  for (const env of ENVIRONMENTS) {
    const values = effectiveParameters(ingress, params(env, 'ingress').values);
    const n = Number(evaluate(ingress.Resources.IngressService.Properties.DesiredCount, { template: ingress, params: values }));
    assert.ok(n >= c.ingress.cluster.minDesiredCount, `${env}: DesiredCount ${n}`);
  }
});

// ---------------------------------------------------------------- issue 14: hardening

const { evaluateCondition } = require('./lib/checker');

test('secrets and log groups are retained on delete and on replacement', () => {
  const retained = [[ingress, ['TunnelTokenSecret', 'ClusterSecret', 'IngressLogGroup']], [edge, ['AgentLogGroup', 'SampleAppLogGroup']]];
  for (const [tpl, names] of retained) {
    const kinds = Object.entries(tpl.Resources).filter(([, r]) => ['AWS::SecretsManager::Secret', 'AWS::Logs::LogGroup'].includes(r.Type)).map(([n]) => n);
    assert.deepEqual(kinds.sort(), [...names].sort(), 'every secret and log group is in this list');
    for (const n of names) {
      assert.equal(tpl.Resources[n].DeletionPolicy, 'Retain', `${n} DeletionPolicy`);
      assert.equal(tpl.Resources[n].UpdateReplacePolicy, 'Retain', `${n} UpdateReplacePolicy`);
    }
  }
});

test('the agent DAEMON (and the sample app) can be limited to hosts with an attribute; every external host by default', () => {
  const constraintsOf = (svc, values) => evaluate(edge.Resources[svc].Properties.PlacementConstraints,
    { template: edge, params: effectiveParameters(edge, { ...params('dev', 'edge').values, ...values }) });
  for (const svc of ['AgentService', 'SampleAppService']) {
    assert.equal(edge.Resources[svc].Properties.SchedulingStrategy, 'DAEMON', svc);
    // by default the If takes its AWS::NoValue branch: no constraint, every external instance
    const ifExpr = edge.Resources[svc].Properties.PlacementConstraints['Fn::If'];
    assert.deepEqual(ifExpr[2], { Ref: 'AWS::NoValue' }, svc);
    assert.equal(evaluateCondition(ifExpr[0], { template: edge, params: effectiveParameters(edge, params('dev', 'edge').values) }), false, `${svc}: no constraint by default`);
    const set = constraintsOf(svc, { AgentHostAttribute: 'edge-tunnel.agent' });
    assert.equal(set.length, 1, svc);
    assert.equal(set[0].Type, 'memberOf', svc);
    const values = effectiveParameters(edge, { ...params('dev', 'edge').values, AgentHostAttribute: 'edge-tunnel.agent' });
    assert.equal(evaluate(set[0].Expression, { template: edge, params: values }), 'attribute:edge-tunnel.agent exists', svc);
  }
  assert.equal(edge.Parameters.AgentHostAttribute.Default, '');
});

test('ECS Exec is off by default and, when on, the agent task role gets exactly the ssmmessages actions ECS Exec needs', () => {
  const ctx = (v) => ({ template: edge, params: effectiveParameters(edge, { ...params('dev', 'edge').values, EnableExecuteCommand: v }) });
  const policy = edge.Resources.AgentExecCommandPolicy;
  assert.equal(policy.Condition, 'ExecEnabled');
  assert.deepEqual(policy.Properties.RoleName, { Ref: 'AgentTaskRole' });
  assert.deepEqual([...policy.Properties.PolicyDocument.Statement[0].Action].sort(),
    ['ssmmessages:CreateControlChannel', 'ssmmessages:CreateDataChannel', 'ssmmessages:OpenControlChannel', 'ssmmessages:OpenDataChannel']);
  assert.equal(edge.Parameters.EnableExecuteCommand.Default, 'false');
  assert.equal(evaluateCondition('ExecEnabled', ctx('false')), false);
  assert.equal(evaluate(edge.Resources.AgentService.Properties.EnableExecuteCommand, ctx('false')), false);
  assert.equal(evaluateCondition('ExecEnabled', ctx('true')), true);
  assert.equal(evaluate(edge.Resources.AgentService.Properties.EnableExecuteCommand, ctx('true')), true);
  for (const env of ['dev', 'prod']) {
    assert.notEqual(params(env, 'edge').values.EnableExecuteCommand, 'true', `${env}: ECS Exec stays off in the shipped parameters`);
  }
});

test('ALB access logs: off by default, on in prod, into a private SSE-S3 bucket with the region\'s ELB log delivery policy', () => {
  const ctx = (values, region = 'eu-west-1') => ({ template: ingress, params: effectiveParameters(ingress, { ...params('dev', 'ingress').values, ...values }), pseudo: { 'AWS::Region': region } });
  assert.equal(ingress.Parameters.AlbAccessLogs.Default, 'disabled');
  assert.equal(params('prod', 'ingress').values.AlbAccessLogs, 'enabled');
  const attrs = (c) => ingress.Resources.LoadBalancer.Properties.LoadBalancerAttributes
    .map((a) => evaluate(a, c)).filter((a) => a && a.Key).map((a) => [a.Key, evaluate(a.Value, c)]);
  const on = ctx({ AlbAccessLogs: 'enabled' });
  assert.deepEqual(attrs(on).filter(([k]) => k.startsWith('access_logs')), [['access_logs.s3.enabled', 'true'], ['access_logs.s3.bucket', UNRESOLVED_BUCKET], ['access_logs.s3.prefix', 'alb']]);
  assert.deepEqual(attrs(ctx({})).filter(([k]) => k.startsWith('access_logs')), [['access_logs.s3.enabled', 'false']]);

  const bucket = ingress.Resources.AccessLogsBucket;
  assert.equal(bucket.Condition, 'AccessLogsOn');
  assert.equal(bucket.DeletionPolicy, 'Retain');
  assert.equal(bucket.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm, 'AES256');
  assert.deepEqual(Object.values(bucket.Properties.PublicAccessBlockConfiguration), [true, true, true, true]);

  const statements = ingress.Resources.AccessLogsBucketPolicy.Properties.PolicyDocument.Statement;
  const service = statements.find((st) => st.Sid === 'ElbLogDelivery');
  assert.deepEqual(service.Principal, { Service: 'logdelivery.elasticloadbalancing.amazonaws.com' });
  assert.equal(service.Action, 's3:PutObject');
  assert.match(service.Resource['Fn::Sub'], /\/alb\/AWSLogs\/\$\{AWS::AccountId\}\/\*$/);
  // regions from before August 2022 also need Elastic Load Balancing's own account
  const legacy = statements.find((st) => st['Fn::If']);
  assert.equal(legacy['Fn::If'][0], 'AccessLogsViaElbAccount');
  assert.equal(evaluateCondition('AccessLogsViaElbAccount', on), true);
  assert.equal(evaluateCondition('AccessLogsViaElbAccount', ctx({ AlbAccessLogs: 'enabled' }, 'ap-southeast-4')), false, 'Melbourne (2023) takes the service principal only');
  assert.equal(ingress.Mappings.ElbLogDeliveryAccount['eu-west-1'].AccountId, '156460612806');
  assert.equal(ingress.Mappings.ElbLogDeliveryAccount['us-east-1'].AccountId, '127311923021');
  for (const region of Object.keys(ingress.Mappings.ElbLogDeliveryAccount)) {
    assert.equal(evaluateCondition('ElbLegacyRegion', ctx({}, region)), true, `${region} is in the mapping but not in ElbLegacyRegion`);
  }
  assert.equal(Object.keys(ingress.Mappings.ElbLogDeliveryAccount).length, 26);
  // the ALB waits for the bucket policy (it checks write access when logging is switched on)
  assert.deepEqual(ingress.Resources.LoadBalancer.DependsOn, 'AccessLogsReady');
  assert.deepEqual(ingress.Resources.AccessLogsReady.Metadata.BucketPolicy, { 'Fn::If': ['AccessLogsOn', { Ref: 'AccessLogsBucketPolicy' }, ''] });
});
const UNRESOLVED_BUCKET = require('./lib/checker').UNRESOLVED;

test('ECS Exec on the ingress is off by default and adds only the ssmmessages actions when on', () => {
  const policy = ingress.Resources.IngressExecCommandPolicy;
  assert.equal(policy.Condition, 'ExecEnabled');
  assert.deepEqual(policy.Properties.RoleName, { Ref: 'IngressTaskRole' });
  assert.deepEqual([...policy.Properties.PolicyDocument.Statement[0].Action].sort(),
    ['ssmmessages:CreateControlChannel', 'ssmmessages:CreateDataChannel', 'ssmmessages:OpenControlChannel', 'ssmmessages:OpenDataChannel']);
  assert.equal(ingress.Parameters.EnableExecuteCommand.Default, 'false');
  const svc = ingress.Resources.IngressService.Properties.EnableExecuteCommand;
  assert.equal(evaluate(svc, { template: ingress, params: effectiveParameters(ingress, params('prod', 'ingress').values) }), false);
  assert.equal(evaluate(svc, { template: ingress, params: effectiveParameters(ingress, { ...params('prod', 'ingress').values, EnableExecuteCommand: 'true' }) }), true);
});
