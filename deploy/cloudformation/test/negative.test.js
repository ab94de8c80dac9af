'use strict';
// The checker catches what it claims to catch: broken fixtures and mutated copies of the real
// templates, parameter files and contract must each produce the expected report.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { parseTemplate, loadTemplate, TemplateParseError } = require('./lib/template');
const { checkTemplate, checkParameterValues, readParameterFile } = require('./lib/checker');
const { checkIngressContract, checkAgentContract, findContainer } = require('./lib/contract');
const { template, params, spec, contract, ROOT } = require('./support');

const fixture = (name) => checkTemplate(loadTemplate(path.join(__dirname, 'fixtures', name)), spec());
const clone = (o) => JSON.parse(JSON.stringify(o));
const asList = (v) => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

function expectReported(problems, kind, pattern, where) {
  const hit = problems.find((p) => p.kind === kind && pattern.test(p.message) && (!where || p.path.startsWith(where)));
  assert.ok(hit, `expected a ${kind} problem matching ${pattern}${where ? ` at ${where}` : ''}; got:\n${problems.map((p) => `  [${p.kind}] ${p.path}: ${p.message}`).join('\n')}`);
  return hit;
}

test('a bogus property is reported, top level and nested, with its line', () => {
  const problems = fixture('bogus-property.yaml');
  const top = expectReported(problems, 'property', /AWS::ECS::Cluster has no property ClusterNme \(did you mean ClusterName\?\)/);
  assert.equal(top.line, 7);
  expectReported(problems, 'property', /ContainerDefinition has no property PortMapings/);
  expectReported(problems, 'property', /HealthCheck has no property Intervall/);
  assert.equal(problems.length, 3);
});

test('an unknown resource type is reported (including AWS::SSM::Activation)', () => {
  const problems = fixture('unknown-type.yaml');
  expectReported(problems, 'type', /unknown resource type AWS::ECS::Clustr \(did you mean AWS::ECS::Cluster\?\)/);
  expectReported(problems, 'type', /unknown resource type AWS::SSM::Activation/);
  assert.equal(problems.length, 2);
});

test('dangling Ref, GetAtt, Sub variable, condition and DependsOn are each reported', () => {
  const problems = fixture('dangling-references.yaml');
  expectReported(problems, 'reference', /Ref to undefined MissingParameter/, 'Resources/Cluster/Properties/ClusterName');
  expectReported(problems, 'reference', /Fn::Sub \$\{\.\.\.\} refers to undefined MissingSubVariable/);
  expectReported(problems, 'reference', /Fn::GetAtt on undefined resource MissingResource/, 'Outputs/A');
  expectReported(problems, 'reference', /AWS::ECS::Cluster has no attribute NoSuchAttribute/, 'Outputs/B');
  expectReported(problems, 'reference', /has no attribute AlsoNoSuchAttribute/, 'Outputs/C');
  expectReported(problems, 'reference', /undefined condition MissingCondition/);
  expectReported(problems, 'reference', /undefined condition NoSuchCondition/, 'Resources/Cluster/Condition');
  expectReported(problems, 'reference', /DependsOn on undefined resource NoSuchResource/);
  assert.equal(problems.length, 8);
});

test('missing required properties are reported, top level and nested', () => {
  const problems = fixture('missing-required.yaml');
  expectReported(problems, 'required', /Listener: required property LoadBalancerArn is missing/);
  expectReported(problems, 'required', /Listener: required property DefaultActions is missing/);
  expectReported(problems, 'required', /TaskDefinition\.Secret: required property ValueFrom is missing/);
  assert.equal(problems.length, 3);
});

test('shape errors, a forgotten !Sub, dead parameters/conditions and misplaced functions are reported', () => {
  const problems = fixture('misc-mistakes.yaml');
  expectReported(problems, 'parameter', /default "staging" is not one of/);
  expectReported(problems, 'property', /RetentionInDays: expected an integer, got a list/);
  expectReported(problems, 'property', /Tags: expected a list, got a mapping/);
  expectReported(problems, 'reference', /plain string contains \$\{Env\}: missing Fn::Sub\?/);
  expectReported(problems, 'structure', /Fn::Equals is only allowed in Conditions and Rules/);
  expectReported(problems, 'structure', /DeletionPolicy must be one of/);
  expectReported(problems, 'unused', /parameter Unused is never used/);
  expectReported(problems, 'unused', /condition NeverUsed is never used/);
});

test('YAML errors stop the check: unknown tag, duplicate key, bad syntax', () => {
  assert.throws(() => parseTemplate('Resources:\n  A:\n    Type: AWS::ECS::Cluster\n    Properties:\n      ClusterName: !Reff X\n', 't'), /(Unresolved|unknown) tag:? !Reff/);
  assert.throws(() => parseTemplate('Resources:\n  A:\n    Type: AWS::ECS::Cluster\n  A:\n    Type: AWS::ECS::Cluster\n', 't'), TemplateParseError);
  assert.throws(() => parseTemplate('Resources:\n  A:\n    Description: a: b: c\n', 't'), TemplateParseError);
});

test('a typo injected into the real ingress template is caught', () => {
  const text = fs.readFileSync(path.join(ROOT, 'ingress.yaml'), 'utf8')
    .replace('HealthCheckGracePeriodSeconds: 90', 'HealthCheckGracePeriodSecond: 90')
    .replace('TargetGroupArn: !Ref TunnelTargetGroup\n', 'TargetGroupArn: !Ref TunelTargetGroup\n');
  const problems = checkTemplate(parseTemplate(text, 'ingress.yaml'), spec());
  expectReported(problems, 'property', /has no property HealthCheckGracePeriodSecond/);
  expectReported(problems, 'reference', /Ref to undefined TunelTargetGroup \(did you mean TunnelTargetGroup\?\)/);
});

test('typos injected into the real edge template are caught', () => {
  const text = fs.readFileSync(path.join(ROOT, 'edge.yaml'), 'utf8')
    .replace('AgentMemoryReservation, AgentMemoryLimit', 'AgentMemReservation, AgentMemoryLimit')
    .replace('SchedulingStrategy: DAEMON', 'SchedulingStrategy: DAEMON\n      DaemonCount: 1')
    .replace('"${IngressStackName}-TunnelUrl"', '"${IngresStackName}-TunnelUrl"');
  const problems = checkTemplate(parseTemplate(text, 'edge.yaml'), spec());
  expectReported(problems, 'reference', /ParameterGroups lists undefined parameter AgentMemReservation/);
  expectReported(problems, 'property', /AWS::ECS::Service has no property DaemonCount/);
  expectReported(problems, 'reference', /Fn::Sub \$\{\.\.\.\} refers to undefined IngresStackName \(did you mean IngressStackName\?\)/);
});

test('bad parameter files are reported', () => {
  const ingress = template('ingress.yaml').template;
  const good = params('dev', 'ingress').values;
  const problems = checkParameterValues(ingress, {
    ...good,
    Bogus: 'x',
    AuthMode: 'password',
    DesiredCount: '0',
    VpcId: 'vpc-nothex!',
    IngressImageUri: '111122223333.dkr.ecr.eu-west-1.amazonaws.com/other/image:1',
  });
  const text = problems.join('\n');
  assert.match(text, /Bogus: not a parameter/);
  assert.match(text, /AuthMode: "password" is not one of/);
  assert.match(text, /DesiredCount: 0 is below MinValue 1/);
  assert.match(text, /VpcId: .* is not a valid AWS::EC2::VPC::Id/);
  assert.match(text, /IngressImageUri: .* does not match AllowedPattern/);
  const missing = checkParameterValues(ingress, Object.fromEntries(Object.entries(good).filter(([k]) => k !== 'CertificateArn')));
  assert.match(missing.join('\n'), /CertificateArn: required \(no Default\) but not given/);
  // a deployed environment never allows every claim (the ingress would refuse to start)
  const allowAll = checkParameterValues(ingress, { ...good, HostPolicyWhenEmpty: 'allow' });
  assert.match(allowAll.join('\n'), /HostPolicyWhenEmpty: "allow" is not one of/);
  const badRules = checkParameterValues(ingress, { ...good, HostPolicyRules: 'token:shared' });
  assert.match(badRules.join('\n'), /HostPolicyRules: .* does not match AllowedPattern/);
  const edge = template('edge.yaml').template;
  const edgeRule = checkParameterValues(edge, { ...params('dev', 'edge').values, IngressStackName: '' });
  assert.match(edgeRule.join('\n'), /Without IngressStackName, ClusterName is required/);
  assert.match(edgeRule.join('\n'), /Without IngressStackName, IngressServerId .* is required/);
  assert.deepEqual(readParameterFile({ AuthMode: 'token' }).problems, ['a parameter file must be a JSON list']);
  assert.match(readParameterFile([{ ParameterKey: 'A', ParameterValue: 1 }]).problems[0], /needs string ParameterKey and ParameterValue/);
});

// ---------------------------------------------------------------- contract drift

const ingressT = () => clone(template('ingress.yaml').template);
const edgeT = () => clone(template('edge.yaml').template);
const devIngress = () => params('dev', 'ingress').values;
const devEdge = () => params('dev', 'edge').values;
const ingressContainer = (t) => findContainer(t, contract().ingress.container).container;
const agentContainer = (t) => findContainer(t, contract().agent.container).container;

function expectContract(errors, pattern) {
  assert.ok(errors.some((e) => pattern.test(e)), `expected a contract error matching ${pattern}; got:\n  ${errors.join('\n  ')}`);
}

test('renaming an environment variable in a template breaks the contract check', () => {
  const t = ingressT();
  ingressContainer(t).Environment.find((e) => e.Name === 'INGRESS_AUTH_MODE').Name = 'INGRESS_AUTHMODE';
  const errors = checkIngressContract(t, contract(), devIngress());
  expectContract(errors, /sets INGRESS_AUTHMODE, which the contract does not define/);
  expectContract(errors, /contract variable INGRESS_AUTH_MODE is not set/);
});

test('renaming an environment variable in the contract breaks the contract check', () => {
  const c = clone(contract());
  c.agent.env.AGENT_ROUTE_LIST = c.agent.env.AGENT_ROUTES;
  delete c.agent.env.AGENT_ROUTES;
  const errors = checkAgentContract(template('edge.yaml').template, c, devEdge());
  expectContract(errors, /sets AGENT_ROUTES, which the contract does not define/);
  expectContract(errors, /contract variable AGENT_ROUTE_LIST is not set/);
});

test('a changed port or health-check path breaks the contract check', () => {
  const t = ingressT();
  t.Resources.TunnelTargetGroup.Properties.HealthCheckPort = '9081';
  t.Resources.PublicTargetGroup.Properties.HealthCheckPath = '/actuator/health';
  ingressContainer(t).PortMappings[1].ContainerPort = 9081;
  const errors = checkIngressContract(t, contract(), devIngress());
  expectContract(errors, /TunnelTargetGroup: HealthCheckPort must be 8081/);
  expectContract(errors, /PublicTargetGroup: HealthCheckPath must be \/actuator\/health\/readiness/);
  expectContract(errors, /no port mapping for management port 8081/);

  const c = clone(contract());
  c.agent.ports.management = 9091;
  expectContract(checkAgentContract(template('edge.yaml').template, c, devEdge()), /no port mapping for management port 9091/);
  expectContract(checkAgentContract(template('edge.yaml').template, c, devEdge()), /HealthCheck does not hit 127.0.0.1:9091/);
});

test('broken token wiring is caught on both sides', () => {
  const t = ingressT();
  ingressContainer(t).Secrets.push({ Name: 'TUNNEL_TOKEN', ValueFrom: { Ref: 'TunnelTokenSecret' } });
  expectContract(checkIngressContract(t, contract(), devIngress()), /TUNNEL_TOKEN must stay unset \(the ingress reads the token secret itself/);

  const t2 = ingressT();
  const statements = t2.Resources.IngressTaskRole.Properties.Policies[0].PolicyDocument;
  statements.Statement = statements.Statement.filter((st) => st.Sid !== 'TunnelToken');
  expectContract(checkIngressContract(t2, contract(), devIngress()), /task role IngressTaskRole: secretsmanager:GetSecretValue on the tunnel token secret is not granted/);

  const t3 = ingressT();
  t3.Resources.IngressTaskRole.Properties.Policies[0].PolicyDocument.Statement.find((st) => st.Sid === 'TunnelToken')
    .Action = ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'];
  expectContract(checkIngressContract(t3, contract(), devIngress()), /secretsmanager:DescribeSecret on the tunnel token secret is never used/);

  const t4 = ingressT();
  t4.Resources.IngressExecutionRole.Properties.Policies[0].PolicyDocument.Statement.push(
    { Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: { Ref: 'TunnelTokenSecret' } });
  expectContract(checkIngressContract(t4, contract(), devIngress()), /execution role IngressExecutionRole: may not read the tunnel token secret/);

  const e = edgeT();
  e.Resources.AgentTaskRole.Properties.Policies[0].PolicyDocument.Statement[1].Resource = '*';
  const errors = checkAgentContract(e, contract(), devEdge());
  expectContract(errors, /task role AgentTaskRole: secretsmanager actions on "\*"/);
  expectContract(errors, /task role AgentTaskRole: secretsmanager:GetSecretValue on the tunnel token secret is not granted/);

  const e1 = edgeT();
  agentContainer(e1).Environment = agentContainer(e1).Environment.filter((x) => x.Name !== 'AGENT_TOKEN_SECRET_ID');
  agentContainer(e1).Secrets = [{ Name: 'TUNNEL_TOKEN', ValueFrom: { Ref: 'TunnelTokenSecretArn' } }];
  const injected = checkAgentContract(e1, contract(), devEdge());
  expectContract(injected, /contract variable AGENT_TOKEN_SECRET_ID is not set/);
  expectContract(injected, /TUNNEL_TOKEN must stay unset \(the agent reads the token secret itself/);

  const e2 = edgeT();
  delete e2.Resources.AgentTaskRole.Properties.Policies[0].PolicyDocument.Statement[0].Condition;
  expectContract(checkAgentContract(e2, contract(), devEdge()), /ecs:DescribeTasks is not conditioned on ecs:cluster/);
});

test('timing chain violations are caught (idle timeout, heartbeat, stopTimeout, deregistration delay)', () => {
  const t = ingressT();
  const errors = checkIngressContract(t, contract(), { ...devIngress(), TunnelHeartbeatSeconds: '130' });
  expectContract(errors, /idle timeout 120s must exceed the tunnel heartbeat interval 130s/);
  expectContract(checkIngressContract(t, contract(), { ...devIngress(), DeregistrationDelaySeconds: '25' }),
    /deregistration delay 25s must exceed StopTimeout 30s/);
  expectContract(checkIngressContract(t, contract(), { ...devIngress(), ShutdownPhaseTimeoutSeconds: '30' }),
    /shutdown phase timeout 30s must be below StopTimeout 30s/);
  expectContract(checkAgentContract(template('edge.yaml').template, contract(), { ...devEdge(), ContainerStopTimeoutSeconds: '15' }),
    /shutdown phase timeout 20s must be below StopTimeout 15s/);
});

test('wrong launch type, network mode or scheduling is caught on the edge side', () => {
  const e = edgeT();
  e.Resources.AgentTaskDefinition.Properties.NetworkMode = 'bridge';
  e.Resources.AgentService.Properties.SchedulingStrategy = 'REPLICA';
  e.Resources.AgentService.Properties.LaunchType = 'EC2';
  const errors = checkAgentContract(e, contract(), devEdge());
  expectContract(errors, /NetworkMode must be host/);
  expectContract(errors, /SchedulingStrategy must be DAEMON/);
  expectContract(errors, /LaunchType must be EXTERNAL/);
  const routes = checkAgentContract(edgeT(), contract(), { ...devEdge(), AgentRoutes: 'other.example.com=http://127.0.0.1:9999' });
  expectContract(routes, /no AGENT_ROUTES entry targets http:\/\/127.0.0.1:8080/);
});

// ---------------------------------------------------------------- replica cluster (issue 13)

const taskRule = (name, props) => ({ [name]: { Type: 'AWS::EC2::SecurityGroupIngress', Properties: {
  GroupId: { 'Fn::GetAtt': ['TaskSecurityGroup', 'GroupId'] }, IpProtocol: 'tcp', ...props } } });
const albSg = { 'Fn::GetAtt': ['AlbSecurityGroup', 'GroupId'] };

test('the cluster port opened to the ALB or the internet is caught', () => {
  const t = ingressT();
  Object.assign(t.Resources, taskRule('ClusterFromAlb', { SourceSecurityGroupId: albSg, FromPort: 8083, ToPort: 8083 }));
  expectContract(checkIngressContract(t, contract(), devIngress()), /ClusterFromAlb: the ALB security group must not reach the cluster port 8083/);

  const wide = ingressT();
  wide.Resources.TaskIngressTunnelFromAlb.Properties.ToPort = 8090;
  expectContract(checkIngressContract(wide, contract(), devIngress()), /TaskIngressTunnelFromAlb: the ALB security group must not reach the cluster port 8083/);

  const all = ingressT();
  all.Resources.TaskIngressPublicFromAlb.Properties.IpProtocol = '-1';
  expectContract(checkIngressContract(all, contract(), devIngress()), /TaskIngressPublicFromAlb: the ALB security group must not reach the cluster port 8083/);

  const internet = ingressT();
  delete internet.Resources.TaskIngressClusterFromTasks.Properties.SourceSecurityGroupId;
  internet.Resources.TaskIngressClusterFromTasks.Properties.CidrIp = '0.0.0.0/0';
  const errors = checkIngressContract(internet, contract(), devIngress());
  expectContract(errors, /TaskIngressClusterFromTasks: task ingress must come from a security group, never a CIDR/);
  expectContract(errors, /cluster port 8083 is not open to the other ingress tasks/);

  const inline = ingressT();
  inline.Resources.TaskSecurityGroup.Properties.SecurityGroupIngress = [{ IpProtocol: 'tcp', FromPort: 8083, ToPort: 8083, CidrIp: '10.0.0.0/8' }];
  expectContract(checkIngressContract(inline, contract(), devIngress()), /TaskSecurityGroup\/SecurityGroupIngress\/0: task ingress must come from a security group/);

  const albOut = ingressT();
  albOut.Resources.AlbToTasks.Properties.ToPort = 8083;
  expectContract(checkIngressContract(albOut, contract(), devIngress()), /AlbToTasks: the ALB security group must not reach the cluster port 8083/);

  const selfWide = ingressT();
  selfWide.Resources.TaskIngressClusterFromTasks.Properties.FromPort = 8080;
  expectContract(checkIngressContract(selfWide, contract(), devIngress()), /ingress tasks may reach each other on the internal ports \(8083\) only/);

  const noEgress = ingressT();
  delete noEgress.Resources.TaskEgressClusterToTasks;
  expectContract(checkIngressContract(noEgress, contract(), devIngress()), /no egress to the other ingress tasks on the cluster port 8083/);

  const unmapped = ingressT();
  ingressContainer(unmapped).PortMappings = ingressContainer(unmapped).PortMappings.filter((m) => m.ContainerPort !== 8083);
  expectContract(checkIngressContract(unmapped, contract(), devIngress()), /no port mapping for cluster port 8083/);
  const otherPort = ingressT();
  ingressContainer(otherPort).Environment.find((e) => e.Name === 'INGRESS_CLUSTER_PORT').Value = '9083';
  expectContract(checkIngressContract(otherPort, contract(), devIngress()), /INGRESS_CLUSTER_PORT=9083 must be the cluster port 8083/);
});

test('a cluster secret that is plain, shared with the tunnel token, short or unreadable is caught', () => {
  const plain = ingressT();
  ingressContainer(plain).Secrets = ingressContainer(plain).Secrets.filter((x) => x.Name !== 'INGRESS_CLUSTER_SECRET');
  ingressContainer(plain).Environment.push({ Name: 'INGRESS_CLUSTER_SECRET', Value: 'x'.repeat(40) });
  const errors = checkIngressContract(plain, contract(), devIngress());
  expectContract(errors, /INGRESS_CLUSTER_SECRET must come from Secrets/);
  expectContract(errors, /INGRESS_CLUSTER_SECRET must not be a plain environment variable/);

  const shared = ingressT();
  ingressContainer(shared).Secrets.find((x) => x.Name === 'INGRESS_CLUSTER_SECRET').ValueFrom = { Ref: 'TunnelTokenSecret' };
  expectContract(checkIngressContract(shared, contract(), devIngress()), /INGRESS_CLUSTER_SECRET must not be the tunnel token secret/);

  const short = ingressT();
  short.Resources.ClusterSecret.Properties.GenerateSecretString.PasswordLength = 24;
  short.Resources.ClusterSecret.Properties.GenerateSecretString.ExcludePunctuation = false;
  const shortErrors = checkIngressContract(short, contract(), devIngress());
  expectContract(shortErrors, /ClusterSecret: PasswordLength 24 is below 32/);
  expectContract(shortErrors, /ClusterSecret: GenerateSecretString.ExcludePunctuation must be true/);

  const unreadable = ingressT();
  const doc = unreadable.Resources.IngressExecutionRole.Properties.Policies[0].PolicyDocument;
  doc.Statement = doc.Statement.filter((st) => st.Sid !== 'ClusterSecret');
  expectContract(checkIngressContract(unreadable, contract(), devIngress()),
    /execution role IngressExecutionRole: secretsmanager:GetSecretValue on the INGRESS_CLUSTER_SECRET secret is not granted/);
});

test('a plain-text, foreign or exposed cluster directory is caught', () => {
  const plain = ingressT();
  ingressContainer(plain).Environment.find((e) => e.Name === 'INGRESS_CLUSTER_REDIS_URL').Value = { 'Fn::Sub': 'redis://${ClusterCache.Endpoint.Address}:${ClusterCache.Endpoint.Port}' };
  expectContract(checkIngressContract(plain, contract(), devIngress()), /INGRESS_CLUSTER_REDIS_URL uses redis:\/\/; the cache accepts TLS only \(rediss:\/\/\)/);

  const literal = ingressT();
  ingressContainer(literal).Environment.find((e) => e.Name === 'INGRESS_CLUSTER_REDIS_URL').Value = 'rediss://cache.example.com:6379';
  expectContract(checkIngressContract(literal, contract(), devIngress()), /INGRESS_CLUSTER_REDIS_URL must be !Sub "rediss:\/\/\$\{Cache.Endpoint.Address\}/);

  const open = ingressT();
  open.Resources.CacheIngressFromTasks.Properties.CidrIp = '0.0.0.0/0';
  delete open.Resources.CacheIngressFromTasks.Properties.SourceSecurityGroupId;
  const errors = checkIngressContract(open, contract(), devIngress());
  expectContract(errors, /CacheIngressFromTasks: the cache may be reached from the ingress task security group only/);
  expectContract(errors, /ClusterCache: port 6379 is not open to the ingress tasks/);

  const fromAlb = ingressT();
  fromAlb.Resources.CacheIngressFromTasks.Properties.SourceSecurityGroupId = albSg;
  expectContract(checkIngressContract(fromAlb, contract(), devIngress()), /CacheIngressFromTasks: the cache may be reached from the ingress task security group only/);

  const range = ingressT();
  range.Resources.CacheIngressFromTasks.Properties.ToPort = 6380;
  expectContract(checkIngressContract(range, contract(), devIngress()), /CacheIngressFromTasks: the cache rule must open port 6379 only/);

  const shared = ingressT();
  shared.Resources.ClusterCache.Properties.SecurityGroupIds = [{ 'Fn::GetAtt': ['TaskSecurityGroup', 'GroupId'] }];
  expectContract(checkIngressContract(shared, contract(), devIngress()), /ClusterCache: needs its own security group/);

  const publicNet = ingressT();
  publicNet.Resources.ClusterCache.Properties.SubnetIds = { Ref: 'AlbSubnetIds' };
  publicNet.Resources.ClusterCache.Properties.Engine = 'redis';
  const netErrors = checkIngressContract(publicNet, contract(), devIngress());
  expectContract(netErrors, /ClusterCache: must not be placed in the ALB's public subnets/);
  expectContract(netErrors, /ClusterCache: Engine must be valkey/);

  const noEgress = ingressT();
  delete noEgress.Resources.TaskEgressToCache;
  expectContract(checkIngressContract(noEgress, contract(), devIngress()), /no egress to the cache on 6379/);
});

test('a missing drain permission, an advertise address, a renamed property or one replica is caught', () => {
  const t = ingressT();
  const doc = t.Resources.IngressTaskRole.Properties.Policies[0].PolicyDocument;
  doc.Statement = doc.Statement.filter((st) => !asList(st.Action).includes('ecs:DescribeTasks'));
  expectContract(checkIngressContract(t, contract(), devIngress()), /INGRESS_DRAIN_WATCH_TASK needs ecs:DescribeTasks on the cluster's task ARNs/);

  const advertise = ingressT();
  ingressContainer(advertise).Environment.push({ Name: 'INGRESS_CLUSTER_ADVERTISE_ADDRESS', Value: '10.0.0.1' });
  expectContract(checkIngressContract(advertise, contract(), devIngress()), /INGRESS_CLUSTER_ADVERTISE_ADDRESS must stay unset \(each replica advertises its task's private IP/);

  const c = clone(contract());
  c.ingress.env.INGRESS_CLUSTER_REDIS_URL.property = 'ingress.cluster.redis-uri';
  expectContract(checkIngressContract(ingressT(), c, devIngress()), /INGRESS_CLUSTER_REDIS_URL does not bind to ingress.cluster.redis-uri/);

  const watchOff = ingressT();
  ingressContainer(watchOff).Environment.find((e) => e.Name === 'INGRESS_DRAIN_WATCH_TASK').Value = 'false';
  expectContract(checkIngressContract(watchOff, contract(), devIngress()), /INGRESS_DRAIN_WATCH_TASK=false is not one of true/);

  expectContract(checkIngressContract(ingressT(), contract(), { ...devIngress(), DesiredCount: '1' }),
    /IngressService: DesiredCount 1 is below 2/);
});

// ---------------------------------------------------------------- issue 14: tunnel host rule, gRPC

test('a tunnel listener that forwards every host, or a loose host rule, is caught', () => {
  const open = ingressT();
  open.Resources.TunnelListener.Properties.DefaultActions = [{ Type: 'forward', TargetGroupArn: { Ref: 'TunnelTargetGroup' } }];
  expectContract(checkIngressContract(open, contract(), devIngress()), /TunnelListener: the default action must be a fixed-response 404/);

  const noRule = ingressT();
  delete noRule.Resources.TunnelListenerRule;
  noRule.Resources.IngressService.DependsOn = ['HttpsListener', 'GrpcListenerRule'];
  expectContract(checkIngressContract(noRule, contract(), devIngress()), /TunnelTargetGroup: no listener forwards to it/);

  const loose = ingressT();
  loose.Resources.TunnelListenerRule.Properties.Conditions[0].HostHeaderConfig.RegexValues = [{ 'Fn::Sub': '${TunnelSubdomain}.${DomainName}' }];
  const errors = checkIngressContract(loose, contract(), devIngress());
  expectContract(errors, /TunnelListenerRule: the host-header condition also matches xtunnel.dev.example.com/);
  expectContract(errors, /the host-header condition also matches tunnelxdev.example.com/);

  const portless = ingressT();
  portless.Resources.TunnelListenerRule.Properties.Conditions[0].HostHeaderConfig = { Values: [{ 'Fn::Sub': '${TunnelSubdomain}.${DomainName}' }] };
  expectContract(checkIngressContract(portless, contract(), devIngress()), /the host-header condition does not match tunnel.dev.example.com:8443/);
});

test('gRPC that cannot pass the ALB is caught (no GRPC group, wrong health check, no content-type rule, not registered)', () => {
  const none = ingressT();
  delete none.Resources.GrpcTargetGroup;
  delete none.Resources.GrpcListenerRule;
  none.Resources.IngressService.Properties.LoadBalancers = none.Resources.IngressService.Properties.LoadBalancers.filter((lb) => !(lb.TargetGroupArn && lb.TargetGroupArn.Ref === 'GrpcTargetGroup'));
  none.Resources.IngressService.DependsOn = ['HttpsListener', 'TunnelListenerRule'];
  expectContract(checkIngressContract(none, contract(), devIngress()), /expected one target group with ProtocolVersion GRPC/);

  const http = ingressT();
  Object.assign(http.Resources.GrpcTargetGroup.Properties, { HealthCheckPort: '8081', HealthCheckPath: '/actuator/health/readiness', Matcher: { HttpCode: '200' } });
  const errors = checkIngressContract(http, contract(), devIngress());
  expectContract(errors, /GrpcTargetGroup: HealthCheckPort must be the public port/);
  expectContract(errors, /GrpcTargetGroup: HealthCheckPath must be \/AWS.ALB\/healthcheck/);
  expectContract(errors, /GrpcTargetGroup: Matcher must be \{ GrpcCode: "0-99" \}/);

  const noRule = ingressT();
  noRule.Resources.GrpcListenerRule.Properties.Conditions[0].HttpHeaderConfig.Values = ['application/json'];
  expectContract(checkIngressContract(noRule, contract(), devIngress()), /GrpcTargetGroup: no rule of the 443 listener forwards content-type application\/grpc\* to it/);

  const unregistered = ingressT();
  unregistered.Resources.IngressService.Properties.LoadBalancers = unregistered.Resources.IngressService.Properties.LoadBalancers.filter((lb) => !(lb.TargetGroupArn && lb.TargetGroupArn.Ref === 'GrpcTargetGroup'));
  unregistered.Resources.IngressService.DependsOn = ['HttpsListener', 'TunnelListenerRule'];
  const u = checkIngressContract(unregistered, contract(), devIngress());
  expectContract(u, /IngressService: not registered in GrpcTargetGroup on container port 8080/);
  expectContract(u, /IngressService: must DependsOn GrpcListenerRule/);
});

test('an agent health check on readiness, a sample app on one host, or no readiness alarm is caught', () => {
  const ready = edgeT();
  agentContainer(ready).HealthCheck.Command[3] = agentContainer(ready).HealthCheck.Command[3].replace('/liveness', '/readiness');
  expectContract(checkAgentContract(ready, contract(), devEdge()), /HealthCheck does not request \/actuator\/health\/liveness/);

  const replica = edgeT();
  Object.assign(replica.Resources.SampleAppService.Properties, { SchedulingStrategy: 'REPLICA', DesiredCount: 1 });
  expectContract(checkAgentContract(replica, contract(), devEdge()), /SampleAppService: SchedulingStrategy must be DAEMON/);

  const elsewhere = edgeT();
  delete elsewhere.Resources.SampleAppService.Properties.PlacementConstraints;
  expectContract(checkAgentContract(elsewhere, contract(), devEdge()), /SampleAppService: PlacementConstraints must be the agent service's/);

  const silent = edgeT();
  delete silent.Resources.AgentRegistrationFailures;
  expectContract(checkAgentContract(silent, contract(), devEdge()), /no metric filter on its log group AgentLogGroup for "cannot register with"/);
  const noAlarm = edgeT();
  delete noAlarm.Resources.AgentNotRegistering;
  expectContract(checkAgentContract(noAlarm, contract(), devEdge()), /AgentRegistrationFailures: no CloudWatch alarm on its metric/);
});
