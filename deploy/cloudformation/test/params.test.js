'use strict';
// Parameter files: CloudFormation format, only known keys, values within every constraint,
// Rules satisfied, and consistent between the ingress and edge stacks of one environment.

const test = require('node:test');
const assert = require('node:assert/strict');
const { ENVIRONMENTS, stackName, template, params, format } = require('./support');
const { checkParameterValues, evaluate, effectiveParameters } = require('./lib/checker');

const ingress = template('ingress.yaml').template;
const edge = template('edge.yaml').template;

for (const env of ENVIRONMENTS) {
  test(`params/${env}-*.json`, async (t) => {
    const pi = params(env, 'ingress');
    const pe = params(env, 'edge');
    await t.test('are lists of {ParameterKey, ParameterValue}', () => {
      assert.deepEqual(pi.problems, []);
      assert.deepEqual(pe.problems, []);
    });
    await t.test('satisfy the ingress template (keys, types, AllowedValues/Pattern, Min/Max, Rules)', () => {
      const problems = checkParameterValues(ingress, pi.values);
      assert.deepEqual(problems, [], format(problems));
    });
    await t.test('satisfy the edge template (keys, types, AllowedValues/Pattern, Min/Max, Rules)', () => {
      const problems = checkParameterValues(edge, pe.values);
      assert.deepEqual(problems, [], format(problems));
    });
    await t.test(`set EnvironmentName=${env}`, () => {
      assert.equal(pi.values.EnvironmentName, env);
      assert.equal(pe.values.EnvironmentName, env);
    });
    await t.test('edge stack points at this environment\'s ingress stack', () => {
      const ie = effectiveParameters(ingress, pi.values);
      const ee = effectiveParameters(edge, pe.values);
      if (ee.IngressStackName) assert.equal(ee.IngressStackName, stackName(env, 'ingress'));
      if (ee.ClusterName) assert.equal(ee.ClusterName, ie.ClusterName);
      if (ee.IngressTunnelUri) {
        assert.equal(ee.IngressTunnelUri, evaluate(ingress.Outputs.TunnelUrl.Value, { template: ingress, params: ie }));
      }
      assert.ok(ee.IngressStackName || (ee.ClusterName && ee.TunnelTokenSecretArn && ee.IngressTunnelUri));
    });
  });
}
