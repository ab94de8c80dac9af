'use strict';
// The ECS Anywhere registration script: valid bash, lint-clean when shellcheck exists, and in
// --dry-run mode it builds the activation and the documented install command without AWS.

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const SCRIPT = path.join(__dirname, '..', 'scripts', 'register-external-instance.sh');
const run = (cmd, args, env = {}) => spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, ...env } });

test('register-external-instance.sh is valid bash', () => {
  const r = run('bash', ['-n', SCRIPT]);
  assert.equal(r.status, 0, r.stderr);
});

test('register-external-instance.sh passes shellcheck', (t) => {
  if (run('sh', ['-c', 'command -v shellcheck']).status !== 0) {
    t.skip('shellcheck not installed');
    return;
  }
  const r = run('shellcheck', [SCRIPT]);
  assert.equal(r.status, 0, r.stdout + r.stderr);
});

test('--dry-run prints the SSM activation call and the ECS Anywhere install command', () => {
  const r = run('bash', [SCRIPT, '--dry-run', '--region', 'eu-west-1', '--cluster', 'edge-tunnel-dev', '--role', 'EcsAnywhereRole', '--limit', '2']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /\+ aws ssm create-activation --region eu-west-1 --iam-role EcsAnywhereRole --registration-limit 2 --expiration-date \d{4}-\d\d-\d\dT/);
  assert.equal(r.stdout.trim(), "curl --proto '=https' -o ecs-anywhere-install.sh https://amazon-ecs-agent.s3.amazonaws.com/ecs-anywhere-install-latest.sh"
    + ' && sudo bash ecs-anywhere-install.sh --region eu-west-1 --cluster edge-tunnel-dev --activation-id <ActivationId> --activation-code <ActivationCode>');
});

test('--dry-run with --stack-name reads cluster and role from the ingress stack outputs', () => {
  const r = run('bash', [SCRIPT, '--dry-run', '--region', 'eu-west-1', '--stack-name', 'edge-tunnel-dev-ingress']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /describe-stacks .*edge-tunnel-dev-ingress .*OutputKey==\\'ClusterName\\'/);
  assert.match(r.stderr, /OutputKey==\\'EcsAnywhereInstanceRoleName\\'/);
});

test('bad arguments are refused', () => {
  assert.notEqual(run('bash', [SCRIPT, '--dry-run', '--cluster', 'c', '--role', 'r'], { AWS_REGION: '', AWS_DEFAULT_REGION: '' }).status, 0);
  assert.notEqual(run('bash', [SCRIPT, '--dry-run', '--region', 'eu-west-1', '--role', 'r']).status, 0);
  assert.notEqual(run('bash', [SCRIPT, '--dry-run', '--region', 'eu-west-1', '--cluster', 'c', '--role', 'r', '--expires-hours', '9999']).status, 0);
  assert.notEqual(run('bash', [SCRIPT, '--bogus']).status, 0);
});
