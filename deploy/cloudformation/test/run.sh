#!/usr/bin/env bash
# Offline CloudFormation checks for deploy/cloudformation (called by .ci/run).
# Needs node >= 18 and npm; installs the pinned test dependencies with `npm ci` when missing.
set -euo pipefail
cd "$(dirname "$0")"

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  if [ "${CI:-}" = "true" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "node/npm missing: installing them with apt-get (CI=true, root)" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
  else
    echo "error: node and npm are required (e.g. apt-get install -y nodejs npm)" >&2
    exit 2
  fi
fi
major="$(node -p 'process.versions.node.split(".")[0]')"
if [ "$major" -lt 18 ]; then
  echo "error: node >= 18 required for node --test (found $(node --version))" >&2
  exit 2
fi

# Reinstall when node_modules is missing or older than the lock file.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi

tap="$(mktemp)"
trap 'rm -f "$tap"' EXIT
status=0
node --test --test-reporter=spec --test-reporter-destination=stdout \
  --test-reporter=tap --test-reporter-destination="$tap" ./*.test.js || status=$?

count() { sed -n "s/^# $1 \([0-9]*\)$/\1/p" "$tap" | tail -1; }
spec_version="$(node -p 'require("@aws-cdk/aws-service-spec/package.json").version')"
echo
echo "== CloudFormation checks (deploy/cloudformation): $( [ "$status" = 0 ] && echo PASSED || echo FAILED )"
echo "   templates: ingress.yaml edge.yaml | parameter files: $(cd ../params && echo *.json)"
echo "   schemas: @aws-cdk/aws-service-spec $spec_version | contract: test/contract.json"
echo "   tests: $(count tests)  pass: $(count pass)  fail: $(count fail)  skipped: $(count skipped)"
exit "$status"
