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
  const cmd = r.stdout.trim();
  // the installer and its detached signature, checked against the Amazon ECS key, and only then run
  assert.match(cmd, /curl --proto '=https' -fsSL -o ecs-anywhere-install.sh https:\/\/amazon-ecs-agent.s3.amazonaws.com\/ecs-anywhere-install-latest.sh /);
  assert.match(cmd, /-o ecs-anywhere-install.sh.asc https:\/\/amazon-ecs-agent.s3.amazonaws.com\/ecs-anywhere-install-latest.sh.asc /);
  assert.match(cmd, /gpg --keyserver \S+ --recv-keys BCE9D9A42D51784F /);
  assert.match(cmd, /gpg --status-fd 1 --verify ecs-anywhere-install.sh.asc ecs-anywhere-install.sh \| grep -q '\^\\\[GNUPG:\\\] VALIDSIG \.\* F34C3DDAE72926B079BEAEC6BCE9D9A42D51784F\$'/);
  assert.ok(cmd.indexOf('VALIDSIG') < cmd.indexOf('sudo bash'), 'verified before it runs');
  assert.ok(cmd.endsWith(' && sudo bash ecs-anywhere-install.sh --region eu-west-1 --cluster edge-tunnel-dev --activation-id <ActivationId> --activation-code <ActivationCode>'), cmd);
  // named after the edge host: not this machine's name, unless asked
  assert.doesNotMatch(r.stderr, /--default-instance-name/);
  const named = run('bash', [SCRIPT, '--dry-run', '--region', 'eu-west-1', '--cluster', 'c', '--role', 'r', '--instance-name', 'pi-garage']);
  assert.match(named.stderr, /--default-instance-name pi-garage /);
});

test('--dry-run with --stack-name reads cluster and role from the ingress stack outputs', () => {
  const r = run('bash', [SCRIPT, '--dry-run', '--region', 'eu-west-1', '--stack-name', 'edge-tunnel-dev-ingress']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /describe-stacks .*edge-tunnel-dev-ingress .*OutputKey==\\'ClusterName\\'/);
  assert.match(r.stderr, /OutputKey==\\'EcsAnywhereInstanceRoleName\\'/);
});

test('--hosts tags the activation with the routes the host may claim', () => {
  const r = run('bash', [SCRIPT, '--dry-run', '--region', 'eu-west-1', '--cluster', 'c', '--role', 'r',
    '--hosts', 'app.example.com api.example.com/v1']);
  assert.equal(r.status, 0, r.stderr);
  // printed with %q: commas and spaces escaped
  assert.match(r.stderr, /--tags Key=Project\\,Value=edge-tunnel Key=Cluster\\,Value=c Key=edge-tunnel\.hosts\\,Value=app\.example\.com\\ api\.example\.com\/v1 /);
  const without = run('bash', [SCRIPT, '--dry-run', '--region', 'eu-west-1', '--cluster', 'c', '--role', 'r']);
  assert.doesNotMatch(without.stderr, /edge-tunnel.hosts/);
  assert.notEqual(run('bash', [SCRIPT, '--dry-run', '--region', 'eu-west-1', '--cluster', 'c', '--role', 'r',
    '--hosts', 'a.example.com,b.example.com']).status, 0);
  assert.notEqual(run('bash', [SCRIPT, '--dry-run', '--region', 'eu-west-1', '--cluster', 'c', '--role', 'r',
    '--hosts', 'a.example.com;reboot']).status, 0);
});

test('bad arguments are refused', () => {
  assert.notEqual(run('bash', [SCRIPT, '--dry-run', '--cluster', 'c', '--role', 'r'], { AWS_REGION: '', AWS_DEFAULT_REGION: '' }).status, 0);
  assert.notEqual(run('bash', [SCRIPT, '--dry-run', '--region', 'eu-west-1', '--role', 'r']).status, 0);
  assert.notEqual(run('bash', [SCRIPT, '--dry-run', '--region', 'eu-west-1', '--cluster', 'c', '--role', 'r', '--expires-hours', '9999']).status, 0);
  assert.notEqual(run('bash', [SCRIPT, '--bogus']).status, 0);
});

// --run on the edge host, with stand-ins for aws, curl, gpg, sudo and hostname on PATH.
function runOnHost(gpgResult) {
  const fs = require('node:fs');
  const os = require('node:os');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'register-'));
  const bin = path.join(dir, 'bin');
  fs.mkdirSync(bin);
  const stub = (name, body) => fs.writeFileSync(path.join(bin, name), `#!/usr/bin/env bash\n${body}\n`, { mode: 0o755 });
  stub('aws', `echo "$*" >> "${dir}/aws.log"; echo "act-id act-code"`);
  stub('curl', 'while [ $# -gt 0 ]; do if [ "$1" = -o ]; then echo payload > "$2"; fi; shift; done');
  stub('gpg', `echo "$*" >> "${dir}/gpg.log"
case "$*" in
  *--recv-keys*) exit 0 ;;
  *--verify*) if [ "${gpgResult}" = good ]; then
      echo "[GNUPG:] VALIDSIG D64BB6F90CF377E9B5FB346F50DECCC4710E61AF 2021-05-25 1621970189 0 4 0 1 8 00 F34C3DDAE72926B079BEAEC6BCE9D9A42D51784F"
    elif [ "${gpgResult}" = otherkey ]; then
      echo "[GNUPG:] VALIDSIG 0000000000000000000000000000000000000000 2021-05-25 1621970189 0 4 0 1 8 00 1111111111111111111111111111111111111111"
    else echo "[GNUPG:] BADSIG 50DECCC4710E61AF Amazon ECS"; exit 1; fi ;;
esac`);
  stub('sudo', `echo "$*" >> "${dir}/sudo.log"`);
  stub('hostname', 'echo pi-kitchen');
  const r = run('bash', [SCRIPT, '--run', '--region', 'eu-west-1', '--cluster', 'edge-tunnel-dev', '--role', 'EcsAnywhereRole'],
    { PATH: `${bin}:${process.env.PATH}` });
  const read = (f) => (fs.existsSync(path.join(dir, f)) ? fs.readFileSync(path.join(dir, f), 'utf8') : '');
  const out = { r, aws: read('aws.log'), gpg: read('gpg.log'), sudo: read('sudo.log') };
  fs.rmSync(dir, { recursive: true, force: true });
  return out;
}

test('--run verifies the installer signature against the Amazon ECS key before running it', (t) => {
  if (process.platform !== 'linux') {
    t.skip('--run is Linux only');
    return;
  }
  const good = runOnHost('good');
  assert.equal(good.r.status, 0, good.r.stderr);
  assert.match(good.gpg, /--recv-keys BCE9D9A42D51784F/);
  assert.match(good.gpg, /--verify ecs-anywhere-install.sh.asc ecs-anywhere-install.sh/);
  assert.equal(good.sudo.trim(), 'bash ecs-anywhere-install.sh --region eu-west-1 --cluster edge-tunnel-dev --activation-id act-id --activation-code act-code');
  // on the edge host itself, the managed instance takes the host's name
  assert.match(good.aws, /--default-instance-name pi-kitchen /);

  for (const result of ['bad', 'otherkey']) {
    const refused = runOnHost(result);
    assert.notEqual(refused.r.status, 0, `${result}: must fail`);
    assert.match(refused.r.stderr, /signature does not verify against the Amazon ECS key F34C3DDAE72926B079BEAEC6BCE9D9A42D51784F; not running it/);
    assert.equal(refused.sudo, '', `${result}: the installer must not run`);
  }
});
