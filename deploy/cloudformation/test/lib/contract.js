'use strict';
// Consistency between the templates and the service contract (test/contract.json):
// container ports, health-check ports and paths, environment variable names and values,
// the TUNNEL_TOKEN secret wiring (task definition + execution role + task role), launch
// types, and the timing chain heartbeat < ALB idle timeout, shutdown phase < stopTimeout
// < deregistration delay; for the ingress replica cluster: the cluster port reachable from
// ingress tasks only, the generated cluster secret injected as a secret, the TLS URL of the
// ElastiCache Serverless directory and its security group, the drain signal's IAM, and the
// replica count. Values are evaluated with the parameter defaults overlaid by a parameter
// file, so every environment is checked, not only the defaults.

const fs = require('node:fs');
const path = require('node:path');
const { evaluate, evaluateCondition, effectiveParameters, intrinsicOf, isNoValue, isPlainObject, UNRESOLVED } = require('./checker');

const CONTRACT_FILE = path.join(__dirname, '..', 'contract.json');

function loadContract(file = CONTRACT_FILE) {
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

// ---------------------------------------------------------------- helpers

function canonical(v) {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (isPlainObject(v)) return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`).join(',')}}`;
  return JSON.stringify(v);
}
const sameExpr = (a, b) => canonical(a) === canonical(b);

const asList = (v) => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** Items of a list, with Fn::If branches flattened (AWS::NoValue dropped). */
function flattenIf(list) {
  const out = [];
  for (const item of asList(list)) {
    if (intrinsicOf(item) === 'Fn::If') {
      for (const branch of item['Fn::If'].slice(1)) if (!isNoValue(branch)) out.push(...flattenIf([branch]));
    } else if (!isNoValue(item)) {
      out.push(item);
    }
  }
  return out;
}

function resourcesOfType(template, type, ctx) {
  return Object.entries(template.Resources || {}).filter(([, r]) => r.Type === type && (!ctx || deployed(r, ctx)));
}

/** Whether a resource is created with these parameters: no Condition, or one not known to be false. */
function deployed(resource, ctx) {
  return !resource.Condition || evaluateCondition(resource.Condition, ctx) !== false;
}

/**
 * Items of a list as CloudFormation builds it with these parameters: Fn::If on a known condition
 * takes its branch, an unknown one both (like flattenIf); AWS::NoValue dropped.
 */
function resolveList(list, ctx) {
  const out = [];
  for (const item of asList(list)) {
    if (intrinsicOf(item) === 'Fn::If') {
      const [cond, yes, no] = item['Fn::If'];
      const c = evaluateCondition(cond, ctx);
      const branches = c === true ? [yes] : c === false ? [no] : [yes, no];
      for (const b of branches) if (!isNoValue(b)) out.push(...resolveList([b], ctx));
    } else if (!isNoValue(item)) {
      out.push(item);
    }
  }
  return out;
}

function refTarget(expr) {
  if (intrinsicOf(expr) === 'Ref') return expr.Ref;
  if (intrinsicOf(expr) === 'Fn::GetAtt') return asList(expr['Fn::GetAtt'])[0];
  return undefined;
}

/** Seconds of a Spring-style duration ("20s", "500ms", "2m", "PT20S", "20"). */
function parseDuration(v) {
  if (typeof v === 'number') return v;
  if (typeof v !== 'string') return undefined;
  const s = v.trim();
  let m = /^(\d+(?:\.\d+)?)(ns|us|ms|s|m|h|d)?$/.exec(s);
  if (m) {
    const unit = { ns: 1e-9, us: 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600, d: 86400 }[m[2] || 'ms'];
    // Spring's default unit for a bare number is milliseconds.
    return Number(m[1]) * unit;
  }
  m = /^PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?$/i.exec(s);
  if (m) return Number(m[1] || 0) * 3600 + Number(m[2] || 0) * 60 + Number(m[3] || 0);
  return undefined;
}

/**
 * The environment variable names Spring Boot's relaxed binding maps to a property
 * (SystemEnvironmentPropertyMapper): the canonical form drops dashes
 * (ingress.drain.watch-task -> INGRESS_DRAIN_WATCHTASK), the legacy form the templates use turns
 * them into underscores (INGRESS_DRAIN_WATCH_TASK).
 */
function envNamesOf(property) {
  const base = property.replace(/\[(\d+)\]/g, '.$1').replace(/\./g, '_').toUpperCase();
  return [base.replace(/-/g, ''), base.replace(/-/g, '_')];
}

function num(v) {
  if (v === UNRESOLVED || v === undefined || v === null || typeof v === 'object') return undefined;
  const n = Number(v);
  return Number.isNaN(n) ? undefined : n;
}

function findContainer(template, name) {
  for (const [tdName, td] of resourcesOfType(template, 'AWS::ECS::TaskDefinition')) {
    const containers = asList(td.Properties && td.Properties.ContainerDefinitions);
    const c = containers.find((x) => x && x.Name === name);
    if (c) return { tdName, td, container: c };
  }
  return undefined;
}

function envEntries(container) {
  return flattenIf(container.Environment).map((e) => ({ name: e.Name, value: e.Value }));
}

function statementsOf(role) {
  const out = [];
  for (const p of asList(role && role.Properties && role.Properties.Policies)) {
    for (const s of asList(p.PolicyDocument && p.PolicyDocument.Statement)) out.push(s);
  }
  return out;
}

function healthCommand(container) {
  const hc = container.HealthCheck;
  if (!hc || !Array.isArray(hc.Command)) return '';
  return hc.Command.map((c) => (typeof c === 'string' ? c : canonical(c))).join(' ');
}

function checkSecretGrant(template, roleExpr, secretExpr, actions, label, errors, what = 'the tunnel token secret') {
  const roleName = refTarget(roleExpr);
  const role = roleName && template.Resources[roleName];
  if (!role || role.Type !== 'AWS::IAM::Role') {
    errors.push(`${label}: no IAM role in this template (${canonical(roleExpr)})`);
    return;
  }
  for (const action of actions) {
    const granted = statementsOf(role).some((s) => s.Effect === 'Allow'
      && asList(s.Action).includes(action)
      && asList(s.Resource).some((r) => sameExpr(r, secretExpr)));
    if (!granted) errors.push(`${label} ${roleName}: ${action} on ${what} is not granted`);
  }
  for (const s of statementsOf(role)) {
    const acts = asList(s.Action);
    if (acts.some((a) => typeof a === 'string' && a.startsWith('secretsmanager:')) && asList(s.Resource).includes('*')) {
      errors.push(`${label} ${roleName}: secretsmanager actions on "*" (must be the one secret)`);
    }
  }
}

function checkClusterScopedDescribe(template, roleExpr, label, errors) {
  const roleName = refTarget(roleExpr);
  const role = roleName && template.Resources[roleName];
  if (!role) {
    errors.push(`${label}: task role missing`);
    return;
  }
  for (const action of ['ecs:DescribeTasks', 'ecs:DescribeContainerInstances']) {
    const s = statementsOf(role).find((st) => st.Effect === 'Allow' && asList(st.Action).includes(action));
    if (!s) {
      errors.push(`${label} ${roleName}: ${action} not granted`);
      continue;
    }
    const cond = s.Condition || {};
    const scoped = Object.values(cond).some((c) => isPlainObject(c) && Object.keys(c).includes('ecs:cluster'));
    if (!scoped) errors.push(`${label} ${roleName}: ${action} is not conditioned on ecs:cluster`);
    if (asList(s.Resource).includes('*')) errors.push(`${label} ${roleName}: ${action} on "*" (must be limited to the cluster)`);
  }
  for (const s of statementsOf(role)) {
    if (s.Effect !== 'Allow') continue;
    for (const a of asList(s.Action)) {
      if (typeof a === 'string' && (a === '*' || a.endsWith(':*'))) errors.push(`${label} ${roleName}: wildcard action ${a}`);
    }
  }
}

function checkEnv(container, spec, ctx, label, errors) {
  const entries = envEntries(container);
  const names = entries.map((e) => e.name);
  const secrets = flattenIf(container.Secrets).map((s) => s.Name);
  const all = [...names, ...secrets];
  for (const name of all) {
    if (!Object.prototype.hasOwnProperty.call(spec.env, name)) {
      errors.push(`${label}: sets ${name}, which the contract does not define (renamed on one side?)`);
    }
  }
  const dupes = all.filter((n, i) => all.indexOf(n) !== i);
  for (const d of new Set(dupes)) errors.push(`${label}: ${d} set more than once`);
  for (const [name, why] of Object.entries(spec.unsetEnv || {})) {
    if (all.includes(name)) errors.push(`${label}: ${name} must stay unset (${why})`);
  }
  for (const [name, def] of Object.entries(spec.env)) {
    if (def.property && !envNamesOf(def.property).includes(name)) {
      errors.push(`${label}: contract variable ${name} does not bind to ${def.property} (relaxed binding reads ${envNamesOf(def.property).join(' or ')})`);
    }
    if (def.secret) {
      if (!secrets.includes(name)) errors.push(`${label}: ${name} must come from Secrets (the Secrets Manager secret)`);
      if (names.includes(name)) errors.push(`${label}: ${name} must not be a plain environment variable`);
      continue;
    }
    if (!names.includes(name)) {
      errors.push(`${label}: contract variable ${name} is not set`);
      continue;
    }
    for (const e of entries.filter((x) => x.name === name)) {
      const v = evaluate(e.value, ctx);
      if (def.values) {
        if (v !== UNRESOLVED && !def.values.includes(String(v))) errors.push(`${label}: ${name}=${v} is not one of ${def.values.join('|')}`);
        const paramName = intrinsicOf(e.value) === 'Ref' ? e.value.Ref : undefined;
        const param = paramName && ctx.template.Parameters[paramName];
        if (param && param.AllowedValues) {
          for (const allowed of param.AllowedValues.map(String)) {
            if (!def.values.includes(allowed)) errors.push(`${label}: parameter ${paramName} allows ${allowed}, which ${name} does not accept`);
          }
        } else if (paramName && param) {
          errors.push(`${label}: parameter ${paramName} feeds ${name} and needs AllowedValues ${def.values.join('|')}`);
        }
      }
      if (def.duration && v !== UNRESOLVED && parseDuration(v) === undefined) errors.push(`${label}: ${name}=${v} is not a duration`);
      if (def.port) {
        const port = { ...spec.ports, ...(spec.internalPorts || {}) }[def.port];
        if (num(v) !== port) errors.push(`${label}: ${name}=${String(v)} must be the ${def.port} port ${port}`);
      }
    }
  }
  return entries;
}

function envValue(entries, name, ctx) {
  const e = entries.find((x) => x.name === name);
  return e ? evaluate(e.value, ctx) : undefined;
}

function checkImage(container, spec, ctx, label, errors) {
  const img = container.Image;
  const paramName = intrinsicOf(img) === 'Ref' ? img.Ref : undefined;
  const param = paramName && ctx.template.Parameters[paramName];
  if (!param) {
    errors.push(`${label}: Image must be a parameter (image URI as parameter)`);
    return;
  }
  if (!String(param.AllowedPattern || '').includes(spec.imageRepository)) {
    errors.push(`${label}: parameter ${paramName} must only accept ${spec.imageRepository} images (AllowedPattern)`);
  }
  const v = evaluate(img, ctx);
  if (v !== UNRESOLVED && v !== undefined && !String(v).includes(`/${spec.imageRepository}`)) {
    errors.push(`${label}: image ${v} is not ${spec.imageRepository}`);
  }
}

function checkHealthCommand(container, spec, label, errors) {
  const cmd = healthCommand(container);
  const port = spec.ports[spec.containerHealthCheck.port];
  const p = spec.paths[spec.containerHealthCheck.path];
  if (!cmd) {
    errors.push(`${label}: container HealthCheck missing`);
    return;
  }
  if (!new RegExp(`(127\\.0\\.0\\.1|localhost)[:/]${port}\\b`).test(cmd)) errors.push(`${label}: HealthCheck does not hit 127.0.0.1:${port}`);
  if (!cmd.includes(p)) errors.push(`${label}: HealthCheck does not request ${p}`);
}

function portMappings(container) {
  return flattenIf(container.PortMappings);
}

// ---------------------------------------------------------------- ingress

function checkIngressContract(template, contract, paramValues = {}) {
  const spec = contract.ingress;
  const errors = [];
  const ctx = { template, params: effectiveParameters(template, paramValues) };
  const found = findContainer(template, spec.container);
  if (!found) return [`no task definition with container ${spec.container}`];
  const { tdName, td, container } = found;
  const label = `${tdName}/${spec.container}`;
  const tdp = td.Properties;

  if (!asList(tdp.RequiresCompatibilities).includes('FARGATE')) errors.push(`${tdName}: RequiresCompatibilities must include FARGATE`);
  if (tdp.NetworkMode !== 'awsvpc') errors.push(`${tdName}: NetworkMode must be awsvpc`);

  // Ports (internal ones are mapped too: awsvpc tasks reach each other only on mapped ports); the TCP
  // routes' ports when the NLB exists (checkTcpRoutes)
  const allPorts = { ...spec.ports, ...(spec.internalPorts || {}) };
  const tcpRoutes = tcpRoutesOf(container, spec, ctx);
  const mapped = resolveList(container.PortMappings, ctx).map((m) => num(evaluate(m.ContainerPort, ctx)));
  for (const [role, port] of Object.entries(allPorts)) {
    if (!mapped.includes(port)) errors.push(`${label}: no port mapping for ${role} port ${port}`);
  }
  for (const p of mapped) {
    if (!Object.values(allPorts).includes(p) && !tcpRoutes.some((r) => r.port === p)) {
      errors.push(`${label}: port mapping ${p} is neither a contract port nor a TCP route's port (INGRESS_TCP_LISTENERS)`);
    }
  }

  // Environment and secret wiring
  const entries = checkEnv(container, spec, ctx, label, errors);
  const tokenSecret = checkTokenSecretId(template, entries, spec, contract, ctx, tdp, label, errors);
  if (tokenSecret) {
    const secretRes = refTarget(tokenSecret);
    if (intrinsicOf(tokenSecret) !== 'Ref' || !template.Resources[secretRes] || template.Resources[secretRes].Type !== 'AWS::SecretsManager::Secret') {
      errors.push(`${label}: the tunnel token secret id must name the AWS::SecretsManager::Secret of this stack (Ref)`);
    } else {
      const gen = template.Resources[secretRes].Properties.GenerateSecretString || {};
      if (gen.ExcludePunctuation !== true) errors.push(`${secretRes}: GenerateSecretString.ExcludePunctuation must be true`);
      if (gen.SecretStringTemplate !== undefined) errors.push(`${secretRes}: the secret must be the plain token (no SecretStringTemplate)`);
    }
  }
  checkOtherSecrets(template, container, spec, contract, tdp, label, errors);
  checkClusterScopedDescribe(template, tdp.TaskRoleArn, 'task role', errors);
  checkDrainSignal(template, tdp.TaskRoleArn, spec, entries, errors);
  checkClusterDirectory(template, spec, entries, label, errors);
  checkImage(container, spec, ctx, label, errors);
  checkHealthCommand(container, spec, label, errors);

  // Service, target groups, listeners
  const services = resourcesOfType(template, 'AWS::ECS::Service').filter(([, s]) => refTarget(s.Properties.TaskDefinition) === tdName);
  if (services.length !== 1) {
    errors.push(`${tdName}: expected exactly one ECS service running it, found ${services.length}`);
    return errors;
  }
  const [svcName, svc] = services[0];
  const sp = svc.Properties;
  if (sp.LaunchType !== 'FARGATE') errors.push(`${svcName}: LaunchType must be FARGATE`);
  const cb = (sp.DeploymentConfiguration || {}).DeploymentCircuitBreaker || {};
  if (cb.Enable !== true || cb.Rollback !== true) errors.push(`${svcName}: deployment circuit breaker with rollback must be on`);
  if (sp.HealthCheckGracePeriodSeconds === undefined) errors.push(`${svcName}: HealthCheckGracePeriodSeconds missing`);
  if (intrinsicOf(sp.DesiredCount) !== 'Ref') errors.push(`${svcName}: DesiredCount must be a parameter`);
  const minReplicas = (spec.cluster || {}).minDesiredCount;
  const desired = num(evaluate(sp.DesiredCount, ctx));
  if (minReplicas !== undefined && desired !== undefined && desired < minReplicas) {
    errors.push(`${svcName}: DesiredCount ${desired} is below ${minReplicas} (one replica is an outage whenever it is replaced or lost)`);
  }

  const heartbeat = parseDuration(envValue(entries, 'INGRESS_TUNNEL_HEARTBEAT_INTERVAL', ctx));
  const shutdownPhase = parseDuration(envValue(entries, 'SPRING_LIFECYCLE_TIMEOUT_PER_SHUTDOWN_PHASE', ctx));
  const stopTimeout = num(evaluate(container.StopTimeout, ctx));
  if (stopTimeout === undefined) errors.push(`${label}: StopTimeout must be set`);
  else if (stopTimeout > 120) errors.push(`${label}: StopTimeout ${stopTimeout}s exceeds the Fargate maximum of 120s`);

  const tgByPort = {};
  for (const lb of resolveList(sp.LoadBalancers, ctx)) {
    if (lb.ContainerName !== spec.container) errors.push(`${svcName}: load balancer entry for unknown container ${lb.ContainerName}`);
    const port = num(evaluate(lb.ContainerPort, ctx));
    const tgName = refTarget(lb.TargetGroupArn);
    const tg = template.Resources[tgName];
    if (!tg || tg.Type !== 'AWS::ElasticLoadBalancingV2::TargetGroup') {
      errors.push(`${svcName}: load balancer entry for port ${port} has no target group of this stack`);
      continue;
    }
    // the public port is in two groups: HTTP/1 (PublicTargetGroup) and gRPC (checked by checkGrpc);
    // TCP groups are the NLB's (checkTcpRoutes)
    if (tg.Properties.ProtocolVersion !== 'GRPC' && tg.Properties.Protocol !== 'TCP') tgByPort[port] = tgName;
  }
  const dereg = [];
  for (const role of ['public', 'tunnel']) {
    const port = spec.ports[role];
    const tgName = tgByPort[port];
    if (!tgName) {
      errors.push(`${svcName}: no target group registered for container port ${port} (${role})`);
      continue;
    }
    const tgp = template.Resources[tgName].Properties;
    if (num(evaluate(tgp.Port, ctx)) !== port) errors.push(`${tgName}: Port must be ${port}`);
    if (tgp.TargetType !== 'ip') errors.push(`${tgName}: TargetType must be ip (awsvpc tasks)`);
    if (tgp.Protocol !== 'HTTP') errors.push(`${tgName}: Protocol must be HTTP`);
    const hcPort = spec.ports[spec.targetGroupHealthCheck.port];
    const hcPath = spec.paths[spec.targetGroupHealthCheck.path];
    if (String(evaluate(tgp.HealthCheckPort, ctx)) !== String(hcPort)) errors.push(`${tgName}: HealthCheckPort must be ${hcPort}`);
    if (evaluate(tgp.HealthCheckPath, ctx) !== hcPath) errors.push(`${tgName}: HealthCheckPath must be ${hcPath}`);
    const attr = asList(tgp.TargetGroupAttributes).find((a) => a.Key === 'deregistration_delay.timeout_seconds');
    const d = attr ? num(evaluate(attr.Value, ctx)) : undefined;
    if (d === undefined) errors.push(`${tgName}: deregistration_delay.timeout_seconds must be set`);
    else dereg.push([tgName, d]);

    const listeners = listenersForwardingTo(template, tgName);
    if (listeners.length === 0) errors.push(`${tgName}: no listener forwards to it`);
    for (const [lName, l] of listeners) {
      if (l.Properties.Protocol !== 'HTTPS') errors.push(`${lName}: must be HTTPS`);
      if (asList(l.Properties.Certificates).length === 0) errors.push(`${lName}: needs the ACM certificate`);
      const lPort = num(evaluate(l.Properties.Port, ctx));
      if (role === 'public' && lPort !== 443) errors.push(`${lName}: public listener must be on 443`);
      if (role === 'tunnel') {
        const url = evaluate((template.Outputs.TunnelUrl || {}).Value, ctx);
        const expected = new RegExp(`^wss://[A-Za-z0-9.-]+:${lPort}${spec.tunnelPath.replace(/\//g, '\\/')}$`);
        if (url === UNRESOLVED || url === undefined || !expected.test(url)) {
          errors.push(`Outputs/TunnelUrl: ${String(url)} must be wss://<host>:${lPort}${spec.tunnelPath}`);
        }
      }
    }
  }
  checkTunnelHostOnly(template, spec, tgByPort[spec.ports.tunnel], ctx, errors);
  checkGrpc(template, spec, sp, svcName, ctx, errors);

  const redirect = resourcesOfType(template, 'AWS::ElasticLoadBalancingV2::Listener').find(([, l]) => num(evaluate(l.Properties.Port, ctx)) === 80
    && asList(l.Properties.DefaultActions).some((a) => a.Type === 'redirect' && a.RedirectConfig && a.RedirectConfig.Protocol === 'HTTPS'));
  if (!redirect) errors.push('no HTTP :80 listener redirecting to HTTPS');

  // ALB idle timeout vs heartbeat
  const albs = resourcesOfType(template, 'AWS::ElasticLoadBalancingV2::LoadBalancer', ctx).filter(([, lb]) => lb.Properties.Type !== 'network');
  if (albs.length !== 1) errors.push(`expected one application load balancer, found ${albs.length}`);
  for (const [albName, alb] of albs) {
    if (alb.Properties.Scheme !== 'internet-facing') errors.push(`${albName}: must be internet-facing`);
    const attr = asList(alb.Properties.LoadBalancerAttributes).find((a) => a.Key === 'idle_timeout.timeout_seconds');
    const idle = attr ? num(evaluate(attr.Value, ctx)) : 60;
    if (idle < spec.timing.albIdleTimeoutSecondsMin) errors.push(`${albName}: idle timeout ${idle}s is below ${spec.timing.albIdleTimeoutSecondsMin}s`);
    if (heartbeat === undefined) errors.push(`${label}: INGRESS_TUNNEL_HEARTBEAT_INTERVAL unresolved`);
    else if (!(idle > heartbeat)) errors.push(`${albName}: idle timeout ${idle}s must exceed the tunnel heartbeat interval ${heartbeat}s`);
  }

  // Shutdown chain
  if (shutdownPhase === undefined) errors.push(`${label}: SPRING_LIFECYCLE_TIMEOUT_PER_SHUTDOWN_PHASE unresolved`);
  else if (stopTimeout !== undefined && !(shutdownPhase < stopTimeout)) {
    errors.push(`${label}: shutdown phase timeout ${shutdownPhase}s must be below StopTimeout ${stopTimeout}s`);
  }
  for (const [tgName, d] of dereg) {
    if (stopTimeout !== undefined && !(stopTimeout < d)) errors.push(`${tgName}: deregistration delay ${d}s must exceed StopTimeout ${stopTimeout}s`);
    if (shutdownPhase !== undefined && !(shutdownPhase < d)) errors.push(`${tgName}: deregistration delay ${d}s must exceed the shutdown phase timeout ${shutdownPhase}s`);
  }

  // Security groups: public ports from the ALB security group only, internal (cluster) ports from
  // the ingress tasks' own security group only, never from a CIDR.
  const taskSgs = asList(((sp.NetworkConfiguration || {}).AwsvpcConfiguration || {}).SecurityGroups).map(refTarget);
  const albSgs = albs.flatMap(([, a]) => asList(a.Properties.SecurityGroups).map(refTarget));
  const nlbs = resourcesOfType(template, 'AWS::ElasticLoadBalancingV2::LoadBalancer', ctx).filter(([, lb]) => lb.Properties.Type === 'network');
  const nlbSgs = nlbs.flatMap(([, n]) => asList(n.Properties.SecurityGroups).map(refTarget));
  checkTaskSecurityGroups(template, spec, ctx, taskSgs, albSgs, nlbSgs, tcpRoutes, errors);
  checkTcpRoutes(template, spec, ctx, { container, label, svcName, sp, mapped, tcpRoutes, albs, nlbs, taskSgs }, errors);

  // ECS Anywhere instance role (used by the SSM activation)
  const ear = template.Resources.EcsAnywhereInstanceRole;
  if (!ear || ear.Type !== 'AWS::IAM::Role') {
    errors.push('EcsAnywhereInstanceRole (AWS::IAM::Role) missing');
  } else {
    const trust = JSON.stringify(ear.Properties.AssumeRolePolicyDocument);
    if (!trust.includes('ssm.amazonaws.com')) errors.push('EcsAnywhereInstanceRole must trust ssm.amazonaws.com');
    const managed = JSON.stringify(ear.Properties.ManagedPolicyArns || []);
    for (const p of ['AmazonSSMManagedInstanceCore', 'AmazonEC2ContainerServiceforEC2Role']) {
      if (!managed.includes(p)) errors.push(`EcsAnywhereInstanceRole must attach ${p}`);
    }
  }
  return errors;
}

// ---------------------------------------------------------------- ingress: listeners, gRPC

const forwardsTo = (actions, tgName) => asList(actions).some((a) => a.Type === 'forward'
  && (refTarget(a.TargetGroupArn) === tgName
    || asList(((a.ForwardConfig || {}).TargetGroups)).some((t) => refTarget(t.TargetGroupArn) === tgName)));

/** Listener rules of this stack, as [name, properties, listener name]. */
function listenerRules(template) {
  return resourcesOfType(template, 'AWS::ElasticLoadBalancingV2::ListenerRule')
    .map(([name, r]) => [name, r.Properties, refTarget(r.Properties.ListenerArn)]);
}

/** Listeners that send traffic to a target group: by their default action or by one of their rules. */
function listenersForwardingTo(template, tgName) {
  const viaRule = new Set(listenerRules(template).filter(([, r]) => forwardsTo(r.Actions, tgName)).map(([, , l]) => l));
  return resourcesOfType(template, 'AWS::ElasticLoadBalancingV2::Listener')
    .filter(([name, l]) => forwardsTo(l.Properties.DefaultActions, tgName) || viaRule.has(name));
}

/**
 * The tunnel listener forwards only the tunnel host name (a host-header rule) and answers anything
 * else itself with a fixed 404, so the tunnel endpoint is not exposed to every Host a scanner sends.
 */
function checkTunnelHostOnly(template, spec, tgName, ctx, errors) {
  if (!tgName || !(spec.tunnelListener || {}).hostOnly) return;
  for (const [lName, l] of listenersForwardingTo(template, tgName)) {
    const fallback = asList(l.Properties.DefaultActions);
    const fixed = fallback.length === 1 && fallback[0].Type === 'fixed-response'
      && String((fallback[0].FixedResponseConfig || {}).StatusCode) === String(spec.tunnelListener.otherHostsStatus);
    if (!fixed) errors.push(`${lName}: the default action must be a fixed-response ${spec.tunnelListener.otherHostsStatus} (only the tunnel host is forwarded)`);
    const rules = listenerRules(template).filter(([, r, on]) => on === lName && forwardsTo(r.Actions, tgName));
    if (rules.length === 0) errors.push(`${lName}: no listener rule forwards the tunnel host to ${tgName}`);
    const url = evaluate((template.Outputs.TunnelUrl || {}).Value, ctx);
    const m = typeof url === 'string' ? /^wss:\/\/([^:/]+)(?::(\d+))?\//.exec(url) : null;
    for (const [rName, r] of rules) {
      const hosts = asList(r.Conditions).filter((c) => c.Field === 'host-header');
      if (hosts.length === 0) {
        errors.push(`${rName}: must have a host-header condition (the tunnel host name only)`);
        continue;
      }
      if (!m) continue;
      const [, host, port] = m;
      for (const c of hosts) {
        const cfg = c.HostHeaderConfig || {};
        const regexes = asList(cfg.RegexValues).map((x) => evaluate(x, ctx));
        const values = asList(cfg.Values || c.Values).map((x) => evaluate(x, ctx));
        if (regexes.includes(UNRESOLVED) || values.includes(UNRESOLVED)) continue;
        const matches = (h) => regexes.some((re) => new RegExp(re).test(h)) || values.some((v) => v.toLowerCase() === h.toLowerCase());
        // agents send Host: <host>:<port> (a non-default port is part of the Host header)
        for (const h of [host, `${host}:${port}`]) if (!matches(h)) errors.push(`${rName}: the host-header condition does not match ${h}`);
        for (const h of [`x${host}`, `${host}.evil.example`, `evil.example:${port}`, `${host.replace(/\./, 'x')}`]) {
          if (matches(h)) errors.push(`${rName}: the host-header condition also matches ${h}`);
        }
      }
    }
  }
}

/**
 * gRPC through the ALB (contract "grpc"): a GRPC protocol-version target group on the public port,
 * health-checked with a gRPC path and grpc status codes, behind a rule of the public HTTPS listener
 * on content-type application/grpc*, and the service registered in it.
 */
function checkGrpc(template, spec, sp, svcName, ctx, errors) {
  const g = spec.grpc;
  if (!g) return;
  const port = spec.ports[g.port];
  const groups = resourcesOfType(template, 'AWS::ElasticLoadBalancingV2::TargetGroup').filter(([, t]) => t.Properties.ProtocolVersion === 'GRPC');
  if (groups.length !== 1) {
    errors.push(`expected one target group with ProtocolVersion GRPC (gRPC through the ALB), found ${groups.length}`);
    return;
  }
  const [tgName, tg] = groups[0];
  const t = tg.Properties;
  if (num(evaluate(t.Port, ctx)) !== port) errors.push(`${tgName}: Port must be the ${g.port} port ${port}`);
  if (t.Protocol !== 'HTTP') errors.push(`${tgName}: Protocol must be HTTP (the ingress speaks h2c, not TLS)`);
  if (t.TargetType !== 'ip') errors.push(`${tgName}: TargetType must be ip (awsvpc tasks)`);
  const hcPort = t.HealthCheckPort === undefined ? 'traffic-port' : String(evaluate(t.HealthCheckPort, ctx));
  if (hcPort !== 'traffic-port' && hcPort !== String(port)) {
    errors.push(`${tgName}: HealthCheckPort must be the ${g.port} port (the management port ${spec.ports.management} speaks HTTP/1.1 only; a gRPC health check is HTTP/2)`);
  }
  const path = evaluate(t.HealthCheckPath, ctx);
  if (path !== g.healthCheckPath) errors.push(`${tgName}: HealthCheckPath must be ${g.healthCheckPath} (a gRPC method path /package.service/method)`);
  const matcher = t.Matcher || {};
  if (matcher.HttpCode !== undefined || String(matcher.GrpcCode) !== g.grpcCodes) {
    errors.push(`${tgName}: Matcher must be { GrpcCode: "${g.grpcCodes}" } (grpc status codes; the ingress answers the health check with its no-route answer)`);
  }
  const attr = asList(t.TargetGroupAttributes).find((a) => a.Key === 'deregistration_delay.timeout_seconds');
  if (!attr) errors.push(`${tgName}: deregistration_delay.timeout_seconds must be set`);
  if (!asList(sp.LoadBalancers).some((lb) => refTarget(lb.TargetGroupArn) === tgName && num(evaluate(lb.ContainerPort, ctx)) === port)) {
    errors.push(`${svcName}: not registered in ${tgName} on container port ${port}`);
  }
  const publicListeners = resourcesOfType(template, 'AWS::ElasticLoadBalancingV2::Listener')
    .filter(([, l]) => num(evaluate(l.Properties.Port, ctx)) === 443).map(([n]) => n);
  const rules = listenerRules(template).filter(([, r, on]) => publicListeners.includes(on) && forwardsTo(r.Actions, tgName));
  const byContentType = rules.filter(([, r]) => asList(r.Conditions).some((c) => c.Field === 'http-header'
    && String((c.HttpHeaderConfig || {}).HttpHeaderName).toLowerCase() === 'content-type'
    && asList((c.HttpHeaderConfig || {}).Values).includes(g.contentType)));
  if (byContentType.length === 0) errors.push(`${tgName}: no rule of the 443 listener forwards content-type ${g.contentType} to it`);
  const deps = asList((template.Resources[svcName] || {}).DependsOn);
  for (const [rName] of rules) if (!deps.includes(rName)) errors.push(`${svcName}: must DependsOn ${rName} (a target group needs its listener rule before a service registers in it)`);
}

// ---------------------------------------------------------------- ingress: TCP routes (optional NLB)

/** The TCP routes the ingress listens on with these parameters: INGRESS_TCP_LISTENERS parsed, [] when unset. */
function tcpRoutesOf(container, spec, ctx) {
  const name = (spec.tcp || {}).listenersEnv;
  const entry = name && resolveList(container.Environment, ctx).find((e) => e.Name === name);
  if (!entry) return [];
  const v = evaluate(entry.Value, ctx);
  if (typeof v !== 'string') return [];
  return v.split(',').filter((x) => x.trim() !== '').map((x) => {
    const [routeName, rest = ''] = x.trim().split('=');
    return { name: routeName, port: num(rest.split(';')[0]) };
  });
}

/** Resources an expression refers to (Ref, Fn::GetAtt) with these parameters: Fn::If takes its branch. */
function refsIn(expr, ctx) {
  const fn = intrinsicOf(expr);
  if (fn === 'Fn::If') {
    const [cond, yes, no] = expr['Fn::If'];
    const c = evaluateCondition(cond, ctx);
    return c === true ? refsIn(yes, ctx) : c === false ? refsIn(no, ctx) : [...refsIn(yes, ctx), ...refsIn(no, ctx)];
  }
  if (fn === 'Ref' || fn === 'Fn::GetAtt') return [refTarget(expr)];
  if (Array.isArray(expr)) return expr.flatMap((e) => refsIn(e, ctx));
  if (isPlainObject(expr)) return Object.values(expr).flatMap((e) => refsIn(e, ctx));
  return [];
}

const attrOf = (props, key, ctx) => {
  const a = asList(props.TargetGroupAttributes).find((x) => x.Key === key);
  return a ? String(evaluate(a.Value, ctx)) : undefined;
};

/**
 * TCP routes (contract "tcp"): with TCP listeners the stack has exactly one internet-facing NLB in the
 * ALB's subnets, with a security group; per route a TCP listener on the route's port forwarding to an
 * ip target group on that port with PROXY protocol v2 on and a TCP health check, the service registered
 * in it, the port mapped, and the route's port (only) open from the NLB's security group. The ingress
 * gets INGRESS_TCP_LISTENERS and INGRESS_TCP_PROXY_PROTOCOL=true exactly when the NLB exists.
 */
function checkTcpRoutes(template, spec, ctx, s, errors) {
  const t = spec.tcp;
  if (!t) return;
  const { container, label, svcName, sp, mapped, tcpRoutes, albs, nlbs, taskSgs } = s;
  const env = resolveList(container.Environment, ctx);
  const valueOf = (name) => {
    const e = env.find((x) => x.Name === name);
    return e === undefined ? undefined : evaluate(e.Value, ctx);
  };
  const lbEntries = resolveList(sp.LoadBalancers, ctx);
  if (lbEntries.length > t.maxTargetGroupsPerService) {
    errors.push(`${svcName}: ${lbEntries.length} target groups; an ECS service takes at most ${t.maxTargetGroupsPerService}`);
  }
  const tcpGroups = resourcesOfType(template, 'AWS::ElasticLoadBalancingV2::TargetGroup', ctx).filter(([, g]) => g.Properties.Protocol === 'TCP');
  const nlbOnlyEnv = Object.keys(spec.env).filter((n) => spec.env[n].nlbOnly);

  if (nlbs.length === 0) {
    for (const n of nlbOnlyEnv) if (valueOf(n) !== undefined) errors.push(`${label}: ${n} is set but there is no NLB (set it only with the NLB)`);
    for (const [g] of tcpGroups) errors.push(`${g}: a TCP target group without an NLB`);
    return;
  }
  if (nlbs.length !== 1) errors.push(`expected at most one network load balancer, found ${nlbs.length}`);
  const [nlbName, nlb] = nlbs[0];
  const np = nlb.Properties;
  if (np.Scheme !== 'internet-facing') errors.push(`${nlbName}: must be internet-facing`);
  if (albs.length === 1 && !sameExpr(np.Subnets, albs[0][1].Properties.Subnets)) errors.push(`${nlbName}: must be in the ALB's public subnets`);
  const nlbSgs = asList(np.SecurityGroups).map(refTarget);
  if (nlbSgs.length === 0 || nlbSgs.some((g) => !template.Resources[g] || !deployed(template.Resources[g], ctx))) {
    errors.push(`${nlbName}: needs a security group of this stack (an NLB gets security groups only when it is created)`);
  }

  for (const n of nlbOnlyEnv) if (valueOf(n) === undefined) errors.push(`${label}: ${n} must be set when the NLB exists`);
  const pp = valueOf(t.proxyProtocolEnv);
  if (pp !== undefined && String(pp) !== 'true') errors.push(`${label}: ${t.proxyProtocolEnv}=${pp}; the target groups send PROXY protocol v2, so it must be true`);

  const ownPorts = Object.values({ ...spec.ports, ...(spec.internalPorts || {}) });
  const ports = tcpRoutes.map((r) => r.port);
  if (tcpRoutes.length === 0) errors.push(`${label}: ${t.listenersEnv} names no route, but the NLB exists`);
  for (const r of tcpRoutes) {
    if (r.port === undefined || r.port < 1 || r.port > 65535) errors.push(`${label}: TCP route ${r.name} has no valid port`);
    if (ownPorts.includes(r.port)) errors.push(`${label}: TCP route ${r.name} on ${r.port}, one of the ingress's own ports`);
  }
  if (new Set(ports).size !== ports.length) errors.push(`${label}: ${t.listenersEnv} uses a port twice`);

  const listeners = resourcesOfType(template, 'AWS::ElasticLoadBalancingV2::Listener', ctx).filter(([, l]) => refTarget(l.Properties.LoadBalancerArn) === nlbName);
  for (const [lName, l] of listeners) {
    const lPort = num(evaluate(l.Properties.Port, ctx));
    if (l.Properties.Protocol !== 'TCP') errors.push(`${lName}: must be TCP (the ingress reads the raw connection)`);
    if (!ports.includes(lPort)) errors.push(`${lName}: port ${lPort} is no TCP route's port (${t.listenersEnv}: ${ports.join(', ')})`);
  }
  for (const r of tcpRoutes) {
    const where = `TCP route ${r.name} (${r.port})`;
    const onPort = listeners.filter(([, l]) => num(evaluate(l.Properties.Port, ctx)) === r.port);
    if (onPort.length !== 1) {
      errors.push(`${nlbName}: ${where} needs one TCP listener on its port, found ${onPort.length}`);
      continue;
    }
    const [lName, l] = onPort[0];
    const forwards = asList(l.Properties.DefaultActions).filter((a) => a.Type === 'forward');
    const tgName = forwards.length === 1 ? refTarget(forwards[0].TargetGroupArn) : undefined;
    const tg = tgName && template.Resources[tgName];
    if (!tg || tg.Type !== 'AWS::ElasticLoadBalancingV2::TargetGroup' || !deployed(tg, ctx)) {
      errors.push(`${lName}: must forward to one target group of this stack`);
      continue;
    }
    const g = tg.Properties;
    if (g.Protocol !== 'TCP') errors.push(`${tgName}: Protocol must be TCP`);
    if (g.TargetType !== 'ip') errors.push(`${tgName}: TargetType must be ip (awsvpc tasks)`);
    if (num(evaluate(g.Port, ctx)) !== r.port) errors.push(`${tgName}: Port must be the route's port ${r.port}`);
    if (attrOf(g, 'proxy_protocol_v2.enabled', ctx) !== 'true') errors.push(`${tgName}: proxy_protocol_v2.enabled must be true (the ingress reads the client's address from it)`);
    if (attrOf(g, 'preserve_client_ip.enabled', ctx) === 'true') errors.push(`${tgName}: preserve_client_ip.enabled must stay false (the task security group admits the NLB's security group)`);
    if (attrOf(g, 'deregistration_delay.timeout_seconds', ctx) === undefined) errors.push(`${tgName}: deregistration_delay.timeout_seconds must be set`);
    if (g.HealthCheckProtocol !== undefined && g.HealthCheckProtocol !== 'TCP') errors.push(`${tgName}: HealthCheckProtocol must be TCP (the route's port speaks no HTTP)`);
    const hcPort = g.HealthCheckPort === undefined ? 'traffic-port' : String(evaluate(g.HealthCheckPort, ctx));
    if (hcPort !== 'traffic-port' && hcPort !== String(r.port)) errors.push(`${tgName}: HealthCheckPort must be the route's port`);
    const registered = lbEntries.filter((lb) => refTarget(lb.TargetGroupArn) === tgName);
    if (registered.length !== 1 || num(evaluate(registered[0].ContainerPort, ctx)) !== r.port || registered[0].ContainerName !== spec.container) {
      errors.push(`${svcName}: must register ${spec.container} port ${r.port} in ${tgName}`);
    }
    if (!mapped.includes(r.port)) errors.push(`${label}: no port mapping for ${where}`);
    const svc = template.Resources[svcName];
    if (!asList(svc.DependsOn).includes(lName) && !refsIn(svc.Metadata, ctx).includes(lName)) {
      errors.push(`${svcName}: must depend on ${lName} (DependsOn, or a Ref in its Metadata for a conditional listener): a target group needs its listener before a service registers in it`);
    }
    const open = taskSgs.flatMap((sg) => sgRules(template, sg, 'ingress', ctx))
      .some(([, x]) => nlbSgs.includes(refTarget(x.SourceSecurityGroupId)) && covers(portRange(x, ctx), r.port));
    if (!open) errors.push(`task security group: ${where} is not open to the NLB security group`);
    const clients = nlbSgs.flatMap((sg) => sgRules(template, sg, 'ingress', ctx)).some(([, x]) => covers(portRange(x, ctx), r.port));
    if (!clients) errors.push(`NLB security group: ${where} is not open to clients`);
    const out = nlbSgs.flatMap((sg) => sgRules(template, sg, 'egress', ctx))
      .some(([, x]) => taskSgs.includes(peerOf(x, 'egress')) && covers(portRange(x, ctx), r.port));
    if (!out) errors.push(`NLB security group: no egress to the tasks on ${where}`);
  }
  for (const [gName] of tcpGroups) {
    if (!listeners.some(([, l]) => forwardsTo(l.Properties.DefaultActions, gName))) errors.push(`${gName}: no NLB listener forwards to it`);
  }
  // the NLB reaches the tasks on the routes' ports only, and clients reach the NLB on them only
  for (const sg of nlbSgs) {
    for (const [rName, x] of sgRules(template, sg, 'egress', ctx)) {
      if (hasCidr(x) && String(evaluate(x.IpProtocol, ctx)) === 'icmp') continue; // the disallow-all placeholder
      const range = portRange(x, ctx);
      if (!taskSgs.includes(peerOf(x, 'egress')) || range === undefined || range[0] !== range[1] || !ports.includes(range[0])) {
        errors.push(`${rName}: the NLB's egress must be the tasks' TCP route ports only, one port per rule`);
      }
    }
    for (const [rName, x] of sgRules(template, sg, 'ingress', ctx)) {
      const range = portRange(x, ctx);
      if (range === undefined || range[0] !== range[1] || !ports.includes(range[0])) {
        errors.push(`${rName}: the NLB security group admits clients on the TCP route ports only, one port per rule`);
      }
    }
  }
  const dns = Object.entries(template.Outputs || {}).some(([, o]) => intrinsicOf(o.Value) === 'Fn::GetAtt'
    && sameExpr(asList(o.Value['Fn::GetAtt']), [nlbName, 'DNSName']));
  if (!dns) errors.push(`Outputs: no output gives ${nlbName}.DNSName (the TCP routes' address)`);
}

// ---------------------------------------------------------------- ingress: security groups, cluster

/** Rules of a security group: inline and separate resources, each as [name, properties]. */
function sgRules(template, sgName, direction, ctx) {
  const sg = template.Resources[sgName];
  if (!sg || (ctx && !deployed(sg, ctx))) return [];
  const inline = direction === 'ingress' ? 'SecurityGroupIngress' : 'SecurityGroupEgress';
  const type = direction === 'ingress' ? 'AWS::EC2::SecurityGroupIngress' : 'AWS::EC2::SecurityGroupEgress';
  const items = ctx ? resolveList(sg.Properties && sg.Properties[inline], ctx) : asList(sg.Properties && sg.Properties[inline]);
  const rules = items.map((r, i) => [`${sgName}/${inline}/${i}`, r]);
  for (const [rName, r] of resourcesOfType(template, type, ctx)) {
    if (refTarget(r.Properties.GroupId) === sgName) rules.push([rName, r.Properties]);
  }
  return rules;
}

/** [from, to] of a TCP rule; all ports for protocol -1 / all. */
function portRange(rule, ctx) {
  const proto = String(evaluate(rule.IpProtocol, ctx));
  if (proto === '-1' || proto === 'all') return [0, 65535];
  if (proto !== 'tcp' && proto !== '6') return undefined;
  return [num(evaluate(rule.FromPort, ctx)), num(evaluate(rule.ToPort, ctx))];
}

const covers = (range, port) => range !== undefined && range[0] <= port && port <= range[1];
const peerOf = (rule, direction) => refTarget(direction === 'ingress' ? rule.SourceSecurityGroupId : rule.DestinationSecurityGroupId);
const hasCidr = (rule) => rule.CidrIp !== undefined || rule.CidrIpv6 !== undefined || rule.SourcePrefixListId !== undefined
  || rule.DestinationPrefixListId !== undefined;

function checkTaskSecurityGroups(template, spec, ctx, taskSgs, albSgs, nlbSgs, tcpRoutes, errors) {
  const internal = Object.entries(spec.internalPorts || {});
  const rules = taskSgs.flatMap((sg) => sgRules(template, sg, 'ingress', ctx));
  for (const [rName, r] of rules) {
    const from = refTarget(r.SourceSecurityGroupId);
    const range = portRange(r, ctx);
    if (hasCidr(r)) {
      errors.push(`${rName}: task ingress must come from a security group, never a CIDR or prefix list`);
      continue;
    }
    if (albSgs.includes(from)) {
      for (const [role, port] of internal) {
        if (covers(range, port)) errors.push(`${rName}: the ALB security group must not reach the ${role} port ${port}`);
      }
    } else if (nlbSgs.includes(from)) {
      // the NLB reaches the TCP routes' ports, one rule per port, and nothing else
      const ports = tcpRoutes.map((t) => t.port);
      if (range === undefined || range[0] !== range[1] || !ports.includes(range[0])) {
        errors.push(`${rName}: the NLB security group may reach the TCP routes' ports (${ports.join(', ') || 'none'}) only, one port per rule`);
      }
    } else if (taskSgs.includes(from)) {
      const allowed = internal.map(([, port]) => port);
      if (range === undefined || range[0] !== range[1] || !allowed.includes(range[0])) {
        errors.push(`${rName}: ingress tasks may reach each other on the internal ports (${allowed.join(', ')}) only`);
      }
    } else {
      errors.push(`${rName}: task ingress must come from the ALB security group (public ports), the NLB security group (TCP routes) or the task security group (internal ports)`);
    }
  }
  for (const [role, port] of Object.entries(spec.ports)) {
    const open = rules.some(([, r]) => albSgs.includes(refTarget(r.SourceSecurityGroupId)) && covers(portRange(r, ctx), port));
    if (!open) errors.push(`task security group: port ${port} (${role}) is not open to the ALB`);
  }
  for (const [role, port] of internal) {
    const open = rules.some(([, r]) => taskSgs.includes(refTarget(r.SourceSecurityGroupId)) && covers(portRange(r, ctx), port));
    if (!open) errors.push(`task security group: ${role} port ${port} is not open to the other ingress tasks`);
    const out = taskSgs.flatMap((sg) => sgRules(template, sg, 'egress', ctx))
      .some(([, r]) => taskSgs.includes(peerOf(r, 'egress')) && covers(portRange(r, ctx), port));
    if (!out) errors.push(`task security group: no egress to the other ingress tasks on the ${role} port ${port}`);
    for (const alb of albSgs) {
      for (const [rName, r] of sgRules(template, alb, 'egress', ctx)) {
        if (taskSgs.includes(peerOf(r, 'egress')) && covers(portRange(r, ctx), port)) {
          errors.push(`${rName}: the ALB security group must not reach the ${role} port ${port}`);
        }
      }
    }
  }
}

/**
 * The tunnel token: the service reads its secret itself (the contract's secretId variable), with
 * GetSecretValue on the task role and nothing else; nothing injects the value (no Secrets entry,
 * no grant on the execution role). Returns the secret expression, or undefined.
 */
function checkTokenSecretId(template, entries, spec, contract, ctx, tdp, label, errors) {
  const names = Object.keys(spec.env).filter((n) => spec.env[n].secretId);
  if (names.length !== 1) {
    errors.push(`${label}: the contract must name exactly one secretId variable (the tunnel token's secret), found ${names.length}`);
    return undefined;
  }
  const entry = entries.find((e) => e.name === names[0]);
  if (!entry) return undefined; // reported by checkEnv
  const secretExpr = entry.value;
  const grants = (roleExpr) => {
    const role = template.Resources[refTarget(roleExpr)];
    return statementsOf(role).filter((s) => s.Effect === 'Allow' && asList(s.Resource).some((r) => sameExpr(r, secretExpr)));
  };
  checkSecretGrant(template, tdp.TaskRoleArn, secretExpr, ['secretsmanager:GetSecretValue'], 'task role', errors);
  for (const s of grants(tdp.TaskRoleArn)) {
    for (const a of asList(s.Action)) {
      if (a !== 'secretsmanager:GetSecretValue') errors.push(`task role ${refTarget(tdp.TaskRoleArn)}: ${a} on the tunnel token secret is never used (GetSecretValue only)`);
    }
  }
  if (grants(tdp.ExecutionRoleArn).length > 0) {
    errors.push(`execution role ${refTarget(tdp.ExecutionRoleArn)}: may not read the tunnel token secret (nothing injects it; ${names[0]} names it)`);
  }
  return secretExpr;
}

/** Secrets other than the tunnel token (the cluster secret): generated in this stack, injected by ECS. */
function checkOtherSecrets(template, container, spec, contract, tdp, label, errors) {
  const secrets = flattenIf(container.Secrets);
  const tokenId = Object.keys(spec.env).find((n) => spec.env[n].secretId);
  const tokenFrom = (flattenIf(container.Environment).find((e) => e.Name === tokenId) || {}).Value;
  for (const [name, def] of Object.entries(spec.env)) {
    if (!def.secret || name === contract.tunnelTokenEnv) continue;
    const entry = secrets.find((s) => s.Name === name);
    if (!entry) continue; // reported by checkEnv
    const secretRes = intrinsicOf(entry.ValueFrom) === 'Ref' ? entry.ValueFrom.Ref : undefined;
    const res = secretRes && template.Resources[secretRes];
    if (!res || res.Type !== 'AWS::SecretsManager::Secret') {
      errors.push(`${label}: ${name} must come from an AWS::SecretsManager::Secret of this stack (Ref)`);
      continue;
    }
    if (tokenFrom !== undefined && sameExpr(entry.ValueFrom, tokenFrom)) {
      errors.push(`${label}: ${name} must not be the tunnel token secret (every agent knows that one)`);
    }
    const gen = res.Properties.GenerateSecretString;
    if (!gen) {
      errors.push(`${secretRes}: must be generated (GenerateSecretString)`);
    } else {
      if (gen.ExcludePunctuation !== true) errors.push(`${secretRes}: GenerateSecretString.ExcludePunctuation must be true`);
      if (gen.SecretStringTemplate !== undefined) errors.push(`${secretRes}: the secret must be the plain value (no SecretStringTemplate)`);
      const length = num(gen.PasswordLength) === undefined ? 32 : num(gen.PasswordLength); // Secrets Manager's default is 32
      if (def.minLength !== undefined && length < def.minLength) {
        errors.push(`${secretRes}: PasswordLength ${length} is below ${def.minLength} (${name})`);
      }
    }
    checkSecretGrant(template, tdp.ExecutionRoleArn, entry.ValueFrom, ['secretsmanager:GetSecretValue'], 'execution role', errors, `the ${name} secret`);
  }
}

/** INGRESS_DRAIN_WATCH_TASK needs ecs:DescribeTasks on the cluster's tasks (the replica's own task). */
function checkDrainSignal(template, roleExpr, spec, entries, errors) {
  if (!entries.some((e) => e.name === 'INGRESS_DRAIN_WATCH_TASK')) return;
  const roleName = refTarget(roleExpr);
  const role = roleName && template.Resources[roleName];
  // the replica's own task ARN is arn:...:task/<cluster name>/<task id>
  const clusters = resourcesOfType(template, 'AWS::ECS::Cluster').map(([name]) => name);
  const ownTasks = (r) => intrinsicOf(r) === 'Fn::Sub'
    && clusters.some((c) => String(asList(r['Fn::Sub'])[0]).endsWith(`:task/\${${c}}/*`));
  const ok = statementsOf(role).some((st) => st.Effect === 'Allow'
    && asList(st.Action).includes('ecs:DescribeTasks')
    && asList(st.Resource).some(ownTasks)
    && Object.values(st.Condition || {}).some((c) => isPlainObject(c) && Object.keys(c).includes('ecs:cluster')));
  if (!ok) errors.push(`task role ${roleName}: INGRESS_DRAIN_WATCH_TASK needs ecs:DescribeTasks on the cluster's task ARNs (task/<cluster>/*) conditioned on ecs:cluster`);
}

/** INGRESS_CLUSTER_REDIS_URL: rediss:// to the stack's serverless Valkey cache, reachable from the tasks only. */
function checkClusterDirectory(template, spec, entries, label, errors) {
  const cacheSpec = (spec.cluster || {}).cache;
  const urlName = Object.keys(spec.env).find((n) => spec.env[n].redisUrl);
  if (!cacheSpec || !urlName) return;
  const entry = entries.find((e) => e.name === urlName);
  if (!entry) return; // reported by checkEnv
  const sub = intrinsicOf(entry.value) === 'Fn::Sub' ? asList(entry.value['Fn::Sub'])[0] : undefined;
  const m = typeof sub === 'string' ? /^([a-z]+):\/\/\$\{([A-Za-z0-9]+)\.Endpoint\.Address\}:\$\{\2\.Endpoint\.Port\}$/.exec(sub) : null;
  if (!m) {
    errors.push(`${label}: ${urlName} must be !Sub "${cacheSpec.scheme}://\${Cache.Endpoint.Address}:\${Cache.Endpoint.Port}"`);
    return;
  }
  const [, scheme, cacheName] = m;
  if (scheme !== cacheSpec.scheme) errors.push(`${label}: ${urlName} uses ${scheme}://; the cache accepts TLS only (${cacheSpec.scheme}://)`);
  const cache = template.Resources[cacheName];
  if (!cache || cache.Type !== cacheSpec.type) {
    errors.push(`${label}: ${urlName} must point at an ${cacheSpec.type} of this stack`);
    return;
  }
  const cp = cache.Properties;
  if (cp.Engine !== cacheSpec.engine) errors.push(`${cacheName}: Engine must be ${cacheSpec.engine}`);
  if (JSON.stringify(cp.SubnetIds || null).includes('AlbSubnetIds')) errors.push(`${cacheName}: must not be placed in the ALB's public subnets`);
  if (cp.SubnetIds === undefined) errors.push(`${cacheName}: SubnetIds must be set (otherwise ElastiCache picks default subnets)`);
  const cacheSgs = asList(cp.SecurityGroupIds).map(refTarget);
  if (cacheSgs.length === 0 || cacheSgs.some((sg) => !template.Resources[sg])) {
    errors.push(`${cacheName}: SecurityGroupIds must be security groups of this stack`);
    return;
  }
  const svc = resourcesOfType(template, 'AWS::ECS::Service')
    .find(([, s]) => asList(s.Properties.LoadBalancers).some((lb) => lb.ContainerName === spec.container));
  const taskSgs = svc ? asList(((svc[1].Properties.NetworkConfiguration || {}).AwsvpcConfiguration || {}).SecurityGroups).map(refTarget) : [];
  const ctx = { template, params: {} };
  let reachable = false;
  for (const sg of cacheSgs) {
    if (taskSgs.includes(sg)) errors.push(`${cacheName}: needs its own security group, not the tasks'`);
    for (const [rName, r] of sgRules(template, sg, 'ingress')) {
      const range = portRange(r, ctx);
      if (hasCidr(r) || !taskSgs.includes(refTarget(r.SourceSecurityGroupId))) {
        errors.push(`${rName}: the cache may be reached from the ingress task security group only`);
      } else if (range === undefined || range[0] !== cacheSpec.port || range[1] !== cacheSpec.port) {
        errors.push(`${rName}: the cache rule must open port ${cacheSpec.port} only`);
      } else {
        reachable = true;
      }
    }
  }
  if (!reachable) errors.push(`${cacheName}: port ${cacheSpec.port} is not open to the ingress tasks`);
  const egress = taskSgs.flatMap((sg) => sgRules(template, sg, 'egress'))
    .some(([, r]) => cacheSgs.includes(peerOf(r, 'egress')) && covers(portRange(r, ctx), cacheSpec.port));
  if (!egress) errors.push(`task security group: no egress to the cache on ${cacheSpec.port}`);
}

// ---------------------------------------------------------------- agent

/**
 * The container health check is liveness, so readiness (no registered tunnel) is alerted on instead:
 * a metric filter on the agent's log group for the line it logs at each failed registration, and an
 * alarm on that metric.
 */
function checkReadinessAlarm(template, spec, container, label, errors) {
  const a = spec.readinessAlarm;
  if (!a) return;
  const logGroup = refTarget(((container.LogConfiguration || {}).Options || {})['awslogs-group']);
  const filters = resourcesOfType(template, 'AWS::Logs::MetricFilter').filter(([, f]) => refTarget(f.Properties.LogGroupName) === logGroup);
  const filter = filters.find(([, f]) => String(f.Properties.FilterPattern).includes(a.logPattern));
  if (!filter) {
    errors.push(`${label}: no metric filter on its log group ${logGroup} for "${a.logPattern}" (readiness alarm)`);
    return;
  }
  const t = asList(filter[1].Properties.MetricTransformations)[0] || {};
  const alarm = resourcesOfType(template, 'AWS::CloudWatch::Alarm')
    .find(([, x]) => sameExpr(x.Properties.Namespace, t.MetricNamespace) && sameExpr(x.Properties.MetricName, t.MetricName));
  if (!alarm) errors.push(`${filter[0]}: no CloudWatch alarm on its metric ${JSON.stringify(t.MetricName)}`);
  else if (alarm[1].Properties.TreatMissingData !== 'notBreaching') errors.push(`${alarm[0]}: TreatMissingData must be notBreaching (no log line = no failure)`);
}

function checkAgentContract(template, contract, paramValues = {}) {
  const spec = contract.agent;
  const errors = [];
  const ctx = { template, params: effectiveParameters(template, paramValues) };
  const found = findContainer(template, spec.container);
  if (!found) return [`no task definition with container ${spec.container}`];
  const { tdName, td, container } = found;
  const label = `${tdName}/${spec.container}`;
  const tdp = td.Properties;

  if (!sameExpr(asList(tdp.RequiresCompatibilities), ['EXTERNAL'])) errors.push(`${tdName}: RequiresCompatibilities must be [EXTERNAL]`);
  if (tdp.NetworkMode !== spec.networkMode) errors.push(`${tdName}: NetworkMode must be ${spec.networkMode}`);
  if (container.MemoryReservation === undefined) errors.push(`${label}: MemoryReservation must be set`);
  const memRes = num(evaluate(container.MemoryReservation, ctx));
  const mem = num(evaluate(container.Memory, ctx));
  if (mem !== undefined && memRes !== undefined && !(mem > memRes)) errors.push(`${label}: Memory ${mem} must exceed MemoryReservation ${memRes}`);

  const mappings = portMappings(container);
  for (const [role, port] of Object.entries(spec.ports)) {
    const m = mappings.find((x) => num(evaluate(x.ContainerPort, ctx)) === port);
    if (!m) errors.push(`${label}: no port mapping for ${role} port ${port}`);
    else if (m.HostPort !== undefined && num(evaluate(m.HostPort, ctx)) !== port) errors.push(`${label}: host networking needs HostPort == ContainerPort ${port}`);
  }

  const entries = checkEnv(container, spec, ctx, label, errors);
  const tokenSecret = checkTokenSecretId(template, entries, spec, contract, ctx, tdp, label, errors);
  if (tokenSecret) {
    const v = evaluate(tokenSecret, ctx);
    if (v !== UNRESOLVED && !/^arn:aws[a-z-]*:secretsmanager:/.test(String(v))) errors.push(`${label}: the tunnel token secret id ${v} is not a Secrets Manager ARN`);
  }
  checkClusterScopedDescribe(template, tdp.TaskRoleArn, 'task role', errors);
  checkImage(container, spec, ctx, label, errors);
  checkHealthCommand(container, spec, label, errors);
  checkReadinessAlarm(template, spec, container, label, errors);

  const uri = envValue(entries, 'AGENT_INGRESS_URI', ctx);
  if (uri !== UNRESOLVED && uri !== undefined) {
    if (!/^wss:\/\/[A-Za-z0-9.-]+(:\d+)?\//.test(uri) || !uri.endsWith(contract.ingress.tunnelPath)) {
      errors.push(`${label}: AGENT_INGRESS_URI ${uri} must be wss://<host>[:port]${contract.ingress.tunnelPath}`);
    }
  }
  const routes = envValue(entries, 'AGENT_ROUTES', ctx);
  if (routes !== UNRESOLVED && routes !== undefined && !new RegExp(spec.routesPattern).test(routes)) {
    errors.push(`${label}: AGENT_ROUTES ${JSON.stringify(routes)} does not match host[/prefix]=http://127.0.0.1:PORT[;health-check.NAME=VALUE...][;protocol=h2c][,...]`);
  }
  const routesEntry = entries.find((e) => e.name === 'AGENT_ROUTES');
  const routesParam = routesEntry && intrinsicOf(routesEntry.value) === 'Ref' && template.Parameters[routesEntry.value.Ref];
  if (routesParam && routesParam.AllowedPattern !== spec.routesPattern) {
    errors.push(`${label}: parameter ${routesEntry.value.Ref} AllowedPattern differs from contract routesPattern`);
  }

  const shutdownPhase = parseDuration(envValue(entries, 'SPRING_LIFECYCLE_TIMEOUT_PER_SHUTDOWN_PHASE', ctx));
  const stopTimeout = num(evaluate(container.StopTimeout, ctx));
  if (stopTimeout === undefined) errors.push(`${label}: StopTimeout must be set`);
  if (shutdownPhase !== undefined && stopTimeout !== undefined && !(shutdownPhase < stopTimeout)) {
    errors.push(`${label}: shutdown phase timeout ${shutdownPhase}s must be below StopTimeout ${stopTimeout}s`);
  }

  const services = resourcesOfType(template, 'AWS::ECS::Service').filter(([, s]) => refTarget(s.Properties.TaskDefinition) === tdName);
  if (services.length !== 1) {
    errors.push(`${tdName}: expected exactly one ECS service running it, found ${services.length}`);
  } else {
    const [svcName, svc] = services[0];
    if (svc.Properties.LaunchType !== 'EXTERNAL') errors.push(`${svcName}: LaunchType must be EXTERNAL`);
    if (svc.Properties.SchedulingStrategy !== 'DAEMON') errors.push(`${svcName}: SchedulingStrategy must be DAEMON`);
    if (svc.Properties.DesiredCount !== undefined) errors.push(`${svcName}: a DAEMON service takes no DesiredCount`);
    if (svc.Properties.LoadBalancers !== undefined || svc.Properties.NetworkConfiguration !== undefined) {
      errors.push(`${svcName}: EXTERNAL services support neither load balancers nor awsvpc`);
    }
  }

  const agentSvc = services.length === 1 ? services[0][1].Properties : {};
  // Sample app(s): bridge networking, static host port, reachable through a route, and on every
  // host that runs an agent (all agents claim its route).
  for (const [name, sample] of resourcesOfType(template, 'AWS::ECS::TaskDefinition')) {
    if (name === tdName) continue;
    const p = sample.Properties;
    const where = `${name}`;
    if (!sameExpr(asList(p.RequiresCompatibilities), ['EXTERNAL'])) errors.push(`${where}: RequiresCompatibilities must be [EXTERNAL]`);
    if (p.NetworkMode !== 'bridge') errors.push(`${where}: NetworkMode must be bridge`);
    const hostPorts = asList(p.ContainerDefinitions).flatMap((c) => portMappings(c)).map((m) => m.HostPort);
    if (hostPorts.length === 0 || hostPorts.some((h) => h === undefined)) errors.push(`${where}: every port mapping needs a static HostPort`);
    const deployed = sample.Condition ? evaluateCondition(sample.Condition, ctx) : true;
    for (const h of hostPorts.map((x) => num(evaluate(x, ctx))).filter((x) => x !== undefined)) {
      if (Object.values(spec.ports).includes(h)) errors.push(`${where}: host port ${h} collides with the agent's management port`);
      if (deployed === true && typeof routes === 'string') {
        const reach = routes.split(',').some((r) => new RegExp(`=https?://(127\\.0\\.0\\.1|localhost):${h}/?$`).test(r.trim()));
        if (!reach) errors.push(`${where}: no AGENT_ROUTES entry targets http://127.0.0.1:${h}`);
      }
    }
    const svc = resourcesOfType(template, 'AWS::ECS::Service').find(([, s]) => refTarget(s.Properties.TaskDefinition) === name);
    if (!svc) errors.push(`${where}: no service runs it`);
    else {
      if (svc[1].Properties.LaunchType !== 'EXTERNAL') errors.push(`${svc[0]}: LaunchType must be EXTERNAL`);
      if (svc[1].Properties.SchedulingStrategy !== 'DAEMON') {
        errors.push(`${svc[0]}: SchedulingStrategy must be DAEMON (every agent claims the route, so every agent host needs the app)`);
      }
      if (!sameExpr(svc[1].Properties.PlacementConstraints || null, agentSvc.PlacementConstraints || null)) {
        errors.push(`${svc[0]}: PlacementConstraints must be the agent service's (the same hosts)`);
      }
    }
  }
  return errors;
}

module.exports = {
  loadContract,
  checkIngressContract,
  checkAgentContract,
  parseDuration,
  envNamesOf,
  findContainer,
  envEntries,
  flattenIf,
  resolveList,
  CONTRACT_FILE,
};
