'use strict';
// Shared fixtures for the node --test files: templates, parameter files, spec, contract.

const fs = require('node:fs');
const path = require('node:path');
const { loadTemplate } = require('./lib/template');
const { loadSpec } = require('./lib/spec');
const { loadContract } = require('./lib/contract');
const { readParameterFile } = require('./lib/checker');

const ROOT = path.join(__dirname, '..');
const TEMPLATES = ['ingress.yaml', 'edge.yaml'];
const ENVIRONMENTS = ['dev', 'prod'];
// Stack names the README's deploy commands use; edge params import from the ingress stack by name.
const stackName = (env, side) => `edge-tunnel-${env}-${side}`;

function template(name) {
  return loadTemplate(path.join(ROOT, name));
}

function params(env, side) {
  const file = path.join(ROOT, 'params', `${env}-${side}.json`);
  return { file, ...readParameterFile(JSON.parse(fs.readFileSync(file, 'utf8'))) };
}

function format(problems) {
  return problems.map((p) => (typeof p === 'string' ? `  ${p}` : `  line ${p.line}: ${p.path}: ${p.message}`)).join('\n');
}

module.exports = { ROOT, TEMPLATES, ENVIRONMENTS, stackName, template, params, spec: loadSpec, contract: loadContract, format };
