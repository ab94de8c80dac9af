'use strict';
// Parameter combinations that pass every per-parameter constraint but fail when CloudFormation
// creates the resources are refused up front by the templates' Rules (issue 14). Each rule is
// evaluated here over every combination of the allowed values, against the AWS limit it encodes.

const test = require('node:test');
const assert = require('node:assert/strict');
const { template, params } = require('./support');
const { checkParameterValues } = require('./lib/checker');

const ingress = template('ingress.yaml').template;
const edge = template('edge.yaml').template;
const devIngress = params('dev', 'ingress').values;
const devEdge = params('dev', 'edge').values;
const ruleProblems = (tpl, values, rule) => checkParameterValues(tpl, values).filter((p) => p.startsWith(`rule ${rule}:`));

// ECS API reference, TaskDefinition "cpu" / "memory" (Linux Fargate task sizes).
const GB = (from, to) => Array.from({ length: (to - from) / 1024 + 1 }, (_, i) => String(from + i * 1024));
const FARGATE = { 256: ['512', '1024', '2048'], 512: GB(1024, 4096), 1024: GB(2048, 8192), 2048: GB(4096, 16384) };

test('FargateTaskSize accepts exactly the Fargate CPU/memory pairs', () => {
  const cpus = ingress.Parameters.TaskCpu.AllowedValues;
  const memories = ingress.Parameters.TaskMemory.AllowedValues;
  assert.ok(FARGATE[ingress.Parameters.TaskCpu.Default].includes(ingress.Parameters.TaskMemory.Default), 'the defaults are a valid pair');
  let refused = 0;
  for (const cpu of cpus) {
    assert.ok(FARGATE[cpu], `TaskCpu ${cpu} is not a Fargate size this test knows`);
    // every allowed CPU has at least one allowed memory
    assert.ok(memories.some((m) => FARGATE[cpu].includes(m)), `TaskCpu ${cpu} has no allowed TaskMemory`);
    for (const memory of memories) {
      const problems = ruleProblems(ingress, { ...devIngress, TaskCpu: cpu, TaskMemory: memory }, 'FargateTaskSize');
      const valid = FARGATE[cpu].includes(memory);
      assert.equal(problems.length === 0, valid, `TaskCpu ${cpu} / TaskMemory ${memory}: ${problems.join('; ') || 'accepted'}`);
      if (!valid) refused++;
    }
  }
  assert.ok(refused >= 10, `only ${refused} pairs refused`);
  assert.match(ruleProblems(ingress, { ...devIngress, TaskCpu: '2048', TaskMemory: '1024' }, 'FargateTaskSize').join(), /TaskCpu 2048 takes TaskMemory 4096/);
});

test('TunnelListenerPortIsFree refuses the public listeners\' ports 80 and 443', () => {
  for (const port of ['80', '443']) {
    assert.match(ruleProblems(ingress, { ...devIngress, TunnelListenerPort: port }, 'TunnelListenerPortIsFree').join(), /must not be 80 or 443/, port);
  }
  for (const port of ['8443', '444', '8080']) assert.deepEqual(ruleProblems(ingress, { ...devIngress, TunnelListenerPort: port }, 'TunnelListenerPortIsFree'), [], port);
});

test('AgentMemoryLimitAboveReservation accepts exactly limit > reservation, for every allowed pair', () => {
  const reservations = edge.Parameters.AgentMemoryReservation.AllowedValues.map(Number);
  const limits = edge.Parameters.AgentMemoryLimit.AllowedValues.map(Number);
  assert.ok(limits.includes(Number(edge.Parameters.AgentMemoryLimit.Default)));
  assert.ok(reservations.includes(Number(edge.Parameters.AgentMemoryReservation.Default)));
  for (const r of reservations) assert.ok(limits.some((l) => l > r), `reservation ${r} has no allowed limit above it`);
  let refused = 0;
  for (const r of reservations) {
    for (const l of limits) {
      const problems = ruleProblems(edge, { ...devEdge, AgentMemoryReservation: String(r), AgentMemoryLimit: String(l) }, 'AgentMemoryLimitAboveReservation');
      assert.equal(problems.length === 0, l > r, `reservation ${r} / limit ${l}: ${problems.join('; ') || 'accepted'}`);
      if (l <= r) refused++;
    }
  }
  assert.ok(refused > 0);
  assert.match(ruleProblems(edge, { ...devEdge, AgentMemoryReservation: '256', AgentMemoryLimit: '256' }, 'AgentMemoryLimitAboveReservation').join(),
    /AgentMemoryLimit must be above AgentMemoryReservation 256/);
});

test('SampleAppPortIsNotTheAgentPort refuses 8091 for the sample app only when it is deployed', () => {
  assert.match(ruleProblems(edge, { ...devEdge, SampleAppHostPort: '8091' }, 'SampleAppPortIsNotTheAgentPort').join(), /must not be 8091/);
  assert.deepEqual(ruleProblems(edge, { ...devEdge, SampleAppHostPort: '8091', DeploySampleApp: 'false' }, 'SampleAppPortIsNotTheAgentPort'), []);
});

test('a template without its rules lets the bad combinations through (the rules are what refuses them)', () => {
  const bare = (tpl) => ({ ...tpl, Rules: {} });
  assert.deepEqual(checkParameterValues(bare(ingress), { ...devIngress, TaskCpu: '2048', TaskMemory: '512', TunnelListenerPort: '443' }), []);
  assert.deepEqual(checkParameterValues(bare(edge), { ...devEdge, AgentMemoryReservation: '512', AgentMemoryLimit: '256' }), []);
});
