'use strict';
// Every template parses and is valid against the CloudFormation resource schemas.

const test = require('node:test');
const assert = require('node:assert/strict');
const { TEMPLATES, template, spec, format } = require('./support');
const { checkTemplate } = require('./lib/checker');

test('the resource schemas are the real registry data', () => {
  const s = spec();
  assert.ok(s.resources.size >= 1800, `only ${s.resources.size} resource types`);
  for (const t of ['AWS::ECS::Service', 'AWS::ECS::TaskDefinition', 'AWS::ElasticLoadBalancingV2::Listener', 'AWS::SecretsManager::Secret']) {
    assert.ok(s.resource(t), `${t} missing from the schemas`);
  }
  // Why scripts/register-external-instance.sh exists: activations are not a CloudFormation type.
  assert.equal(s.resource('AWS::SSM::Activation'), undefined);
});

for (const name of TEMPLATES) {
  test(name, async (t) => {
    let parsed;
    let problems;
    await t.test('parses (YAML with CloudFormation short-form tags, no duplicate keys)', () => {
      parsed = template(name);
      assert.ok(Object.keys(parsed.template.Resources).length > 0);
      problems = checkTemplate(parsed, spec());
    });
    const only = (...kinds) => problems.filter((p) => kinds.includes(p.kind));
    await t.test('every resource Type exists in the registry schemas', () => {
      assert.deepEqual(only('type'), [], format(only('type')));
      for (const [id, r] of Object.entries(parsed.template.Resources)) assert.ok(spec().resource(r.Type), `${id}: ${r.Type}`);
    });
    await t.test('every property name (nested too) is valid for its type and has the right shape', () => {
      assert.deepEqual(only('property'), [], format(only('property')));
    });
    await t.test('required properties are present', () => {
      assert.deepEqual(only('required'), [], format(only('required')));
    });
    await t.test('every Ref, GetAtt, ${Var} in Sub, condition and DependsOn resolves', () => {
      assert.deepEqual(only('reference'), [], format(only('reference')));
    });
    await t.test('parameters are well-formed and used; conditions are used', () => {
      assert.deepEqual(only('parameter', 'unused'), [], format(only('parameter', 'unused')));
    });
    await t.test('template structure and intrinsic functions are valid', () => {
      assert.deepEqual(only('structure'), [], format(only('structure')));
    });
  });
}
