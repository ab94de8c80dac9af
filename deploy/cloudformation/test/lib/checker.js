'use strict';
// Offline CloudFormation template checker.
//
// checkTemplate(parsed, spec) returns a list of problems { path, line, message } covering:
//   - template sections and their keys
//   - every resource Type exists in the CloudFormation registry schemas
//   - every property (nested ones too) is valid for its type, required ones are present,
//     and values have the right shape (object / list / scalar)
//   - every Ref, Fn::GetAtt (resource and attribute), ${Var} in Fn::Sub, Fn::If / Condition
//     name, DependsOn and Fn::FindInMap target resolves
//   - intrinsic functions are known, have the right arity and are used where allowed
//   - parameters: valid types, defaults satisfy their own constraints, no unused parameters
//     or conditions, no "${Name}" in a plain string (a forgotten !Sub)
// checkParameterValues(template, values) validates one parameter file against a template.

const PSEUDO_PARAMETERS = new Set([
  'AWS::AccountId', 'AWS::NotificationARNs', 'AWS::NoValue', 'AWS::Partition', 'AWS::Region',
  'AWS::StackId', 'AWS::StackName', 'AWS::URLSuffix',
]);

const TOP_LEVEL_KEYS = new Set([
  'AWSTemplateFormatVersion', 'Description', 'Metadata', 'Parameters', 'Rules', 'Mappings',
  'Conditions', 'Transform', 'Resources', 'Outputs',
]);
const RESOURCE_KEYS = new Set([
  'Type', 'Properties', 'DependsOn', 'Condition', 'DeletionPolicy', 'UpdateReplacePolicy',
  'Metadata', 'CreationPolicy', 'UpdatePolicy',
]);
const PARAMETER_KEYS = new Set([
  'Type', 'Default', 'AllowedValues', 'AllowedPattern', 'ConstraintDescription', 'Description',
  'MaxLength', 'MinLength', 'MaxValue', 'MinValue', 'NoEcho',
]);
const OUTPUT_KEYS = new Set(['Description', 'Value', 'Export', 'Condition']);
const POLICIES = new Set(['Delete', 'Retain', 'Snapshot', 'RetainExceptOnCreate']);

// Name -> [minArgs, maxArgs] for list-valued intrinsics (undefined: not a list).
const FUNCTIONS = {
  Ref: null,
  Condition: null,
  'Fn::GetAtt': [2, 2],
  'Fn::Sub': null,
  'Fn::If': [3, 3],
  'Fn::Equals': [2, 2],
  'Fn::Not': [1, 1],
  'Fn::And': [2, 10],
  'Fn::Or': [2, 10],
  'Fn::Join': [2, 2],
  'Fn::Select': [2, 2],
  'Fn::Split': [2, 2],
  'Fn::FindInMap': [3, 4],
  'Fn::ImportValue': null,
  'Fn::Base64': null,
  'Fn::Cidr': [3, 3],
  'Fn::GetAZs': null,
  'Fn::Transform': null,
  'Fn::ToJsonString': null,
  'Fn::Length': null,
  'Fn::Contains': [2, 2],
  'Fn::EachMemberEquals': [2, 2],
  'Fn::EachMemberIn': [2, 2],
  'Fn::RefAll': null,
  'Fn::ValueOf': [2, 2],
  'Fn::ValueOfAll': [2, 2],
};
const CONDITION_FUNCTIONS = new Set(['Fn::Equals', 'Fn::Not', 'Fn::And', 'Fn::Or']);
const RULE_ONLY_FUNCTIONS = new Set([
  'Fn::Contains', 'Fn::EachMemberEquals', 'Fn::EachMemberIn', 'Fn::RefAll', 'Fn::ValueOf', 'Fn::ValueOfAll',
]);

const PARAMETER_TYPES = /^(String|Number|List<Number>|CommaDelimitedList|AWS::EC2::[A-Za-z]+::[A-Za-z]+|AWS::Route53::HostedZone::Id|List<AWS::EC2::[A-Za-z]+::[A-Za-z]+>|List<AWS::Route53::HostedZone::Id>|AWS::SSM::Parameter::(Name|Value<.+>))$/;

function isPlainObject(v) {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Returns the intrinsic function name if v is {"Ref"|"Fn::*"|"Condition": ...}, else undefined. */
function intrinsicOf(v) {
  if (!isPlainObject(v)) return undefined;
  const keys = Object.keys(v);
  if (keys.length !== 1) return undefined;
  const k = keys[0];
  if (k === 'Ref' || k.startsWith('Fn::')) return k;
  return undefined;
}

const isNoValue = (v) => isPlainObject(v) && v.Ref === 'AWS::NoValue' && Object.keys(v).length === 1;

/** The ${...} placeholders of a Fn::Sub string, without ${!Literal} escapes. */
function subVariables(str) {
  const vars = [];
  const re = /\$\{([^}]*)\}/g;
  let m;
  while ((m = re.exec(str)) !== null) {
    const name = m[1].trim();
    if (name.startsWith('!')) continue;
    vars.push(name);
  }
  return vars;
}

function levenshtein(a, b) {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
  }
  return d[a.length][b.length];
}

function suggestion(name, candidates) {
  let best;
  let bestScore = Infinity;
  for (const c of candidates) {
    const score = c.toLowerCase() === name.toLowerCase() ? 0 : levenshtein(name, c);
    if (score < bestScore) {
      best = c;
      bestScore = score;
    }
  }
  return best !== undefined && bestScore <= Math.max(2, Math.floor(name.length / 4)) ? ` (did you mean ${best}?)` : '';
}

class Problems {
  constructor(lines) {
    this.lines = lines || new Map();
    this.list = [];
  }
  add(path, message) {
    const p = path.join('/');
    let line;
    for (let i = path.length; i > 0 && line === undefined; i--) line = this.lines.get(path.slice(0, i).join('/'));
    this.list.push({ path: p, line, kind: kindOf(message), message });
  }
}

/** Problem categories, so tests can assert each class of check separately. */
const KINDS = [
  ['type', /unknown resource type|resource needs a Type/],
  ['required', /required property .* is missing/],
  ['property', /has no property|: expected (a|an) |a tag has no|unsupported schema type|Properties must be a mapping/],
  ['reference', /ParameterGroups lists undefined|Ref to undefined|refers to undefined|Fn::GetAtt on undefined|has no attribute|undefined condition|DependsOn on undefined|undefined mapping|Fn::Sub variable|missing Fn::Sub|may only reference|cannot use Fn::GetAtt|cannot depend on/],
  ['unused', /is never used/],
  ['parameter', /^default |invalid parameter type|unknown parameter attribute/],
];
function kindOf(message) {
  const hit = KINDS.find(([, re]) => re.test(message));
  return hit ? hit[0] : 'structure';
}

function checkTemplate(parsed, spec) {
  const { template } = parsed;
  const problems = new Problems(parsed.lines);
  const add = (path, msg) => problems.add(path, msg);

  for (const key of Object.keys(template)) {
    if (!TOP_LEVEL_KEYS.has(key)) add([key], `unknown top-level section ${key}${suggestion(key, TOP_LEVEL_KEYS)}`);
  }
  const parameters = isPlainObject(template.Parameters) ? template.Parameters : {};
  const resources = isPlainObject(template.Resources) ? template.Resources : {};
  const conditions = isPlainObject(template.Conditions) ? template.Conditions : {};
  const mappings = isPlainObject(template.Mappings) ? template.Mappings : {};
  const outputs = isPlainObject(template.Outputs) ? template.Outputs : {};
  if (!isPlainObject(template.Resources) || Object.keys(resources).length === 0) {
    add(['Resources'], 'a template needs at least one resource');
  }
  for (const name of Object.keys(parameters)) {
    if (Object.prototype.hasOwnProperty.call(resources, name)) {
      add(['Parameters', name], `${name} is both a parameter and a resource`);
    }
  }

  const usedParameters = new Set();
  const usedConditions = new Set();

  // ---------------------------------------------------------------- parameters
  for (const [name, p] of Object.entries(parameters)) {
    const path = ['Parameters', name];
    if (!isPlainObject(p)) {
      add(path, 'parameter must be a mapping');
      continue;
    }
    for (const k of Object.keys(p)) {
      if (!PARAMETER_KEYS.has(k)) add([...path, k], `unknown parameter attribute ${k}${suggestion(k, PARAMETER_KEYS)}`);
    }
    if (typeof p.Type !== 'string' || !PARAMETER_TYPES.test(p.Type)) {
      add([...path, 'Type'], `invalid parameter type ${JSON.stringify(p.Type)}`);
    }
    if (p.Default !== undefined) {
      for (const err of parameterValueErrors(p, String(p.Default))) add([...path, 'Default'], `default ${err}`);
    }
  }

  // ---------------------------------------------------------------- reference walker
  const resourceNames = new Set(Object.keys(resources));

  function checkRef(target, path, ctx, what = 'Ref to') {
    if (typeof target !== 'string') {
      add(path, 'Ref takes a literal name');
      return;
    }
    if (PSEUDO_PARAMETERS.has(target)) return;
    if (Object.prototype.hasOwnProperty.call(parameters, target)) {
      usedParameters.add(target);
      return;
    }
    if (resourceNames.has(target)) {
      if (ctx.section === 'Conditions' || ctx.section === 'Rules') {
        add(path, `${ctx.section} may only reference parameters, not resource ${target}`);
      }
      if (ctx.inImport) add(path, `Fn::ImportValue cannot depend on resource ${target}`);
      return;
    }
    add(path, `${what} undefined ${target}${suggestion(target, [...Object.keys(parameters), ...resourceNames, ...PSEUDO_PARAMETERS])}`);
  }

  function checkGetAtt(resName, attr, path, ctx) {
    if (!resourceNames.has(resName)) {
      add(path, `Fn::GetAtt on undefined resource ${resName}${suggestion(resName, resourceNames)}`);
      return;
    }
    if (ctx.section === 'Conditions' || ctx.section === 'Rules') add(path, `${ctx.section} cannot use Fn::GetAtt`);
    if (ctx.inImport) add(path, `Fn::ImportValue cannot depend on resource ${resName}`);
    if (typeof attr !== 'string') return; // dynamic attribute name
    const type = resources[resName] && resources[resName].Type;
    const schema = typeof type === 'string' ? spec.resource(type) : undefined;
    if (!schema) return; // unknown type is reported elsewhere; custom resources have free attributes
    const attrs = Object.keys(schema.attributes || {});
    if (!attrs.includes(attr)) {
      add(path, `${type} has no attribute ${attr} (Fn::GetAtt ${resName}.${attr})${suggestion(attr, attrs)}`);
    }
  }

  function checkConditionName(name, path) {
    if (typeof name !== 'string') {
      add(path, 'condition name must be a literal string');
      return;
    }
    usedConditions.add(name);
    if (!Object.prototype.hasOwnProperty.call(conditions, name)) {
      add(path, `undefined condition ${name}${suggestion(name, Object.keys(conditions))}`);
    }
  }

  const namedPlaceholder = /\$\{([A-Za-z0-9]+(::[A-Za-z0-9]+)?(\.[A-Za-z0-9.]+)?)\}/;

  function walk(value, path, ctx) {
    if (Array.isArray(value)) {
      value.forEach((v, i) => walk(v, [...path, String(i)], ctx));
      return;
    }
    if (typeof value === 'string') {
      const m = namedPlaceholder.exec(value);
      if (m && ctx.section !== 'Metadata') {
        const name = m[1].split('.')[0];
        if (Object.prototype.hasOwnProperty.call(parameters, name) || resourceNames.has(name) || PSEUDO_PARAMETERS.has(name)) {
          add(path, `plain string contains \${${m[1]}}: missing Fn::Sub?`);
        }
      }
      return;
    }
    if (!isPlainObject(value)) return;

    // {"Condition": "Name"} references a condition inside Conditions and inside condition functions.
    if (ctx.section === 'Conditions' && Object.keys(value).length === 1 && typeof value.Condition === 'string') {
      checkConditionName(value.Condition, [...path, 'Condition']);
      return;
    }
    const fn = intrinsicOf(value);
    if (fn === undefined) {
      for (const [k, v] of Object.entries(value)) {
        if (k.startsWith('Fn::') && !(k in FUNCTIONS)) add([...path, k], `unknown intrinsic function ${k}`);
        walk(v, [...path, k], ctx);
      }
      return;
    }
    const arg = value[fn];
    const argPath = [...path, fn];
    if (!(fn in FUNCTIONS)) {
      add(argPath, `unknown intrinsic function ${fn}${suggestion(fn, Object.keys(FUNCTIONS))}`);
      return;
    }
    const arity = FUNCTIONS[fn];
    if (arity) {
      if (!Array.isArray(arg) && !(fn === 'Fn::GetAtt' && typeof arg === 'string')) {
        add(argPath, `${fn} takes a list`);
        return;
      }
      const list = Array.isArray(arg) ? arg : [arg];
      if (fn !== 'Fn::GetAtt' && (list.length < arity[0] || list.length > arity[1])) {
        add(argPath, `${fn} takes ${arity[0] === arity[1] ? arity[0] : `${arity[0]}..${arity[1]}`} arguments, got ${list.length}`);
        return;
      }
    }
    if (CONDITION_FUNCTIONS.has(fn) && ctx.section !== 'Conditions' && ctx.section !== 'Rules') {
      add(argPath, `${fn} is only allowed in Conditions and Rules`);
    }
    if (RULE_ONLY_FUNCTIONS.has(fn) && ctx.section !== 'Rules') add(argPath, `${fn} is only allowed in Rules`);

    switch (fn) {
      case 'Ref':
        checkRef(arg, argPath, ctx);
        return;
      case 'Condition':
        checkConditionName(arg, argPath);
        return;
      case 'Fn::GetAtt': {
        let parts = arg;
        if (typeof arg === 'string') {
          const dot = arg.indexOf('.');
          parts = dot < 0 ? [arg] : [arg.slice(0, dot), arg.slice(dot + 1)];
        }
        if (!Array.isArray(parts) || parts.length !== 2) {
          add(argPath, 'Fn::GetAtt takes [Resource, Attribute]');
          return;
        }
        if (typeof parts[1] !== 'string') walk(parts[1], [...argPath, '1'], ctx);
        checkGetAtt(parts[0], parts[1], argPath, ctx);
        return;
      }
      case 'Fn::Sub': {
        let str = arg;
        let vars = {};
        if (Array.isArray(arg)) {
          if (arg.length !== 2 || !isPlainObject(arg[1])) {
            add(argPath, 'Fn::Sub takes a string or [string, {variables}]');
            return;
          }
          [str, vars] = arg;
          for (const [k, v] of Object.entries(vars)) walk(v, [...argPath, '1', k], ctx);
        }
        if (typeof str !== 'string') {
          add(argPath, 'Fn::Sub template must be a literal string');
          return;
        }
        const usedVars = new Set();
        for (const name of subVariables(str)) {
          if (Object.prototype.hasOwnProperty.call(vars, name)) {
            usedVars.add(name);
            continue;
          }
          const dot = name.indexOf('.');
          if (dot > 0 && !name.startsWith('AWS::')) {
            checkGetAtt(name.slice(0, dot), name.slice(dot + 1), argPath, ctx);
          } else {
            checkRef(name, argPath, ctx, 'Fn::Sub ${...} refers to');
          }
        }
        for (const k of Object.keys(vars)) {
          if (!usedVars.has(k)) add([...argPath, '1', k], `Fn::Sub variable ${k} is never used in the string`);
        }
        return;
      }
      case 'Fn::If': {
        checkConditionName(arg[0], [...argPath, '0']);
        walk(arg[1], [...argPath, '1'], ctx);
        walk(arg[2], [...argPath, '2'], ctx);
        return;
      }
      case 'Fn::FindInMap': {
        if (typeof arg[0] === 'string' && !Object.prototype.hasOwnProperty.call(mappings, arg[0])) {
          add(argPath, `Fn::FindInMap on undefined mapping ${arg[0]}`);
        }
        arg.forEach((v, i) => walk(v, [...argPath, String(i)], ctx));
        return;
      }
      case 'Fn::ImportValue':
        walk(arg, argPath, { ...ctx, inImport: true });
        return;
      default:
        walk(arg, argPath, ctx);
    }
  }

  // ---------------------------------------------------------------- conditions and rules
  for (const [name, cond] of Object.entries(conditions)) {
    const fn = intrinsicOf(cond);
    if (!fn || !CONDITION_FUNCTIONS.has(fn)) {
      add(['Conditions', name], 'a condition must be Fn::Equals, Fn::Not, Fn::And or Fn::Or');
    }
    walk(cond, ['Conditions', name], { section: 'Conditions' });
  }
  // Conditions referenced only from other conditions still count as used; a condition used
  // by nothing at all is dead code.
  if (isPlainObject(template.Rules)) {
    for (const [name, rule] of Object.entries(template.Rules)) {
      const path = ['Rules', name];
      if (!isPlainObject(rule) || !Array.isArray(rule.Assertions)) {
        add(path, 'a rule needs Assertions (a list)');
        continue;
      }
      for (const k of Object.keys(rule)) {
        if (k !== 'RuleCondition' && k !== 'Assertions') add([...path, k], `unknown rule attribute ${k}`);
      }
      if (rule.RuleCondition !== undefined) walk(rule.RuleCondition, [...path, 'RuleCondition'], { section: 'Rules' });
      rule.Assertions.forEach((a, i) => {
        if (!isPlainObject(a) || a.Assert === undefined) add([...path, 'Assertions', String(i)], 'an assertion needs Assert');
        else walk(a.Assert, [...path, 'Assertions', String(i), 'Assert'], { section: 'Rules' });
      });
    }
  }

  // ---------------------------------------------------------------- resources
  for (const [name, res] of Object.entries(resources)) {
    const path = ['Resources', name];
    if (!/^[A-Za-z0-9]+$/.test(name)) add(path, `logical id ${name} must be alphanumeric`);
    if (!isPlainObject(res)) {
      add(path, 'resource must be a mapping');
      continue;
    }
    for (const k of Object.keys(res)) {
      if (!RESOURCE_KEYS.has(k)) add([...path, k], `unknown resource attribute ${k}${suggestion(k, RESOURCE_KEYS)}`);
    }
    if (res.Condition !== undefined) checkConditionName(res.Condition, [...path, 'Condition']);
    for (const policy of ['DeletionPolicy', 'UpdateReplacePolicy']) {
      if (res[policy] !== undefined && !POLICIES.has(res[policy])) {
        add([...path, policy], `${policy} must be one of ${[...POLICIES].join(', ')} (intrinsics need the AWS::LanguageExtensions transform)`);
      }
    }
    if (res.DependsOn !== undefined) {
      const deps = Array.isArray(res.DependsOn) ? res.DependsOn : [res.DependsOn];
      deps.forEach((d, i) => {
        if (typeof d !== 'string' || !resourceNames.has(d) || d === name) {
          add([...path, 'DependsOn', String(i)], `DependsOn on undefined resource ${d}${suggestion(String(d), resourceNames)}`);
        }
      });
    }
    if (typeof res.Type !== 'string') {
      add([...path, 'Type'], 'resource needs a Type');
      continue;
    }
    const custom = res.Type.startsWith('Custom::') || res.Type === 'AWS::CloudFormation::CustomResource';
    const schema = spec.resource(res.Type);
    if (!schema && !custom) {
      add([...path, 'Type'], `unknown resource type ${res.Type}${suggestion(res.Type, spec.resources.keys())}`);
    }
    if (res.Properties !== undefined && !isPlainObject(res.Properties) && !intrinsicOf(res.Properties)) {
      add([...path, 'Properties'], 'Properties must be a mapping');
    } else if (schema) {
      validateObject(res.Properties || {}, schema.properties || {}, [...path, 'Properties'], spec, add, `${res.Type}`);
    }
    walk(res.Properties, [...path, 'Properties'], { section: 'Resources' });
    if (res.Metadata !== undefined) walk(res.Metadata, [...path, 'Metadata'], { section: 'Metadata' });
  }

  // ---------------------------------------------------------------- outputs
  for (const [name, out] of Object.entries(outputs)) {
    const path = ['Outputs', name];
    if (!isPlainObject(out)) {
      add(path, 'output must be a mapping');
      continue;
    }
    for (const k of Object.keys(out)) {
      if (!OUTPUT_KEYS.has(k)) add([...path, k], `unknown output attribute ${k}${suggestion(k, OUTPUT_KEYS)}`);
    }
    if (out.Value === undefined) add(path, 'output needs a Value');
    if (out.Condition !== undefined) checkConditionName(out.Condition, [...path, 'Condition']);
    if (out.Export !== undefined && (!isPlainObject(out.Export) || out.Export.Name === undefined)) {
      add([...path, 'Export'], 'Export needs a Name');
    }
    walk(out.Value, [...path, 'Value'], { section: 'Outputs' });
    if (out.Export !== undefined) walk(out.Export, [...path, 'Export'], { section: 'Outputs' });
  }

  // ---------------------------------------------------------------- console metadata
  const iface = isPlainObject(template.Metadata) ? template.Metadata['AWS::CloudFormation::Interface'] : undefined;
  if (isPlainObject(iface)) {
    (iface.ParameterGroups || []).forEach((g, i) => {
      (g.Parameters || []).forEach((name, j) => {
        if (!Object.prototype.hasOwnProperty.call(parameters, name)) {
          add(['Metadata', 'AWS::CloudFormation::Interface', 'ParameterGroups', String(i), 'Parameters', String(j)],
            `ParameterGroups lists undefined parameter ${name}${suggestion(String(name), Object.keys(parameters))}`);
        }
      });
    });
  }

  // ---------------------------------------------------------------- dead code
  for (const name of Object.keys(parameters)) {
    if (!usedParameters.has(name)) add(['Parameters', name], `parameter ${name} is never used`);
  }
  for (const name of Object.keys(conditions)) {
    if (!usedConditions.has(name)) add(['Conditions', name], `condition ${name} is never used`);
  }
  return problems.list;
}

// ---------------------------------------------------------------- schema validation

function describe(v) {
  if (Array.isArray(v)) return 'a list';
  if (v === null) return 'null';
  return typeof v === 'object' ? 'a mapping' : `${typeof v} ${JSON.stringify(v)}`;
}

/** Validates a properties mapping against a schema's property table. */
function validateObject(obj, props, path, spec, add, owner) {
  const fn = intrinsicOf(obj);
  if (fn === 'Fn::If' && Array.isArray(obj[fn])) {
    obj[fn].slice(1).forEach((branch, i) => {
      if (!isNoValue(branch)) validateObject(branch, props, [...path, fn, String(i + 1)], spec, add, owner);
    });
    return;
  }
  if (fn) return; // a whole object from Ref / GetAtt / ImportValue cannot be checked statically
  if (!isPlainObject(obj)) {
    add(path, `${owner}: expected a mapping, got ${describe(obj)}`);
    return;
  }
  for (const [key, value] of Object.entries(obj)) {
    const prop = props[key];
    if (!prop) {
      add([...path, key], `${owner} has no property ${key}${suggestion(key, Object.keys(props))}`);
      continue;
    }
    if (isNoValue(value)) continue;
    validateValue(value, prop, [...path, key], spec, add, `${owner}.${key}`);
  }
  for (const [key, prop] of Object.entries(props)) {
    if (prop.required && !Object.prototype.hasOwnProperty.call(obj, key)) {
      add(path, `${owner}: required property ${key} is missing`);
    }
  }
}

function validateValue(value, prop, path, spec, add, owner) {
  const types = [prop.type, ...(prop.previousTypes || [])];
  // Accept the value if it fits the current type or any previous type (schemas widen over time).
  let firstErrors;
  for (const type of types) {
    const errors = [];
    checkType(value, type, path, spec, (p, m) => errors.push([p, m]), owner);
    if (errors.length === 0) return;
    if (!firstErrors) firstErrors = errors;
  }
  for (const [p, m] of firstErrors) add(p, m);
}

function checkType(value, type, path, spec, add, owner) {
  const fn = intrinsicOf(value);
  if (fn === 'Fn::If' && Array.isArray(value[fn])) {
    value[fn].slice(1).forEach((branch, i) => {
      if (!isNoValue(branch)) checkType(branch, type, [...path, fn, String(i + 1)], spec, add, owner);
    });
    return;
  }
  if (fn) return;
  switch (type.type) {
    case 'string':
    case 'date-time':
      if (value !== null && typeof value === 'object') add(path, `${owner}: expected a string, got ${describe(value)}`);
      return;
    case 'integer':
    case 'number':
      if (typeof value === 'number') return;
      if (typeof value === 'string' && value.trim() !== '' && !Number.isNaN(Number(value))) return;
      add(path, `${owner}: expected ${type.type === "integer" ? "an" : "a"} ${type.type}, got ${describe(value)}`);
      return;
    case 'boolean':
      if (typeof value === 'boolean' || value === 'true' || value === 'false') return;
      add(path, `${owner}: expected a boolean, got ${describe(value)}`);
      return;
    case 'json':
      return;
    case 'tag':
      if (!isPlainObject(value) || value.Key === undefined || value.Value === undefined) {
        add(path, `${owner}: expected a tag {Key, Value}, got ${describe(value)}`);
      } else {
        for (const k of Object.keys(value)) if (k !== 'Key' && k !== 'Value') add([...path, k], `${owner}: a tag has no ${k}`);
      }
      return;
    case 'array':
      if (!Array.isArray(value)) {
        add(path, `${owner}: expected a list, got ${describe(value)}`);
        return;
      }
      value.forEach((item, i) => {
        if (!isNoValue(item)) checkType(item, type.element, [...path, String(i)], spec, add, owner);
      });
      return;
    case 'map':
      if (!isPlainObject(value)) {
        add(path, `${owner}: expected a mapping, got ${describe(value)}`);
        return;
      }
      for (const [k, v] of Object.entries(value)) checkType(v, type.element, [...path, k], spec, add, owner);
      return;
    case 'ref': {
      const def = spec.typeDef(type.reference);
      if (!def) return;
      validateObject(value, def.properties || {}, path, spec, add, `${owner.split('.')[0]}.${def.name}`);
      return;
    }
    case 'union': {
      let firstErrors;
      for (const t of type.types) {
        const errors = [];
        checkType(value, t, path, spec, (p, m) => errors.push([p, m]), owner);
        if (errors.length === 0) return;
        if (!firstErrors) firstErrors = errors;
      }
      for (const [p, m] of firstErrors) add(p, m);
      return;
    }
    default:
      add(path, `${owner}: unsupported schema type ${type.type}`);
  }
}

// ---------------------------------------------------------------- parameter values

const AWS_ID_PATTERNS = {
  'AWS::EC2::VPC::Id': /^vpc-[0-9a-f]{8,17}$/,
  'AWS::EC2::Subnet::Id': /^subnet-[0-9a-f]{8,17}$/,
  'AWS::EC2::SecurityGroup::Id': /^sg-[0-9a-f]{8,17}$/,
  'AWS::Route53::HostedZone::Id': /^Z[A-Z0-9]+$/,
};

/** Errors of one value against one parameter declaration (an empty list when valid). */
function parameterValueErrors(param, value) {
  const errors = [];
  const type = param.Type || 'String';
  const listMatch = /^List<(.+)>$/.exec(type);
  const isList = listMatch || type === 'CommaDelimitedList';
  const items = isList ? value.split(',').map((s) => s.trim()) : [value];
  const itemType = listMatch ? listMatch[1] : type === 'CommaDelimitedList' ? 'String' : type;
  for (const item of items) {
    if (itemType === 'Number' && (item.trim() === '' || Number.isNaN(Number(item)))) errors.push(`${JSON.stringify(item)} is not a number`);
    const idPattern = AWS_ID_PATTERNS[itemType];
    if (idPattern && !idPattern.test(item)) errors.push(`${JSON.stringify(item)} is not a valid ${itemType}`);
  }
  if (param.AllowedValues && !param.AllowedValues.map(String).includes(value)) {
    errors.push(`${JSON.stringify(value)} is not one of ${JSON.stringify(param.AllowedValues)}`);
  }
  if (param.AllowedPattern !== undefined && !isList) {
    // CloudFormation anchors AllowedPattern at both ends (Java regex, whole-string match).
    const re = new RegExp(`^(?:${param.AllowedPattern})$`);
    if (!re.test(value)) errors.push(`${JSON.stringify(value)} does not match AllowedPattern ${param.AllowedPattern}`);
  }
  if (type === 'Number' && value.trim() !== '' && !Number.isNaN(Number(value))) {
    const n = Number(value);
    if (param.MinValue !== undefined && n < Number(param.MinValue)) errors.push(`${n} is below MinValue ${param.MinValue}`);
    if (param.MaxValue !== undefined && n > Number(param.MaxValue)) errors.push(`${n} is above MaxValue ${param.MaxValue}`);
  }
  if (param.MinLength !== undefined && value.length < Number(param.MinLength)) errors.push(`shorter than MinLength ${param.MinLength}`);
  if (param.MaxLength !== undefined && value.length > Number(param.MaxLength)) errors.push(`longer than MaxLength ${param.MaxLength}`);
  return errors;
}

/**
 * Reads a parameter file in the CloudFormation format
 * ([{"ParameterKey": ..., "ParameterValue": ...}], accepted by `create-stack --parameters
 * file://...` and by `deploy --parameter-overrides file://...` in AWS CLI v2).
 * Returns { values, problems }.
 */
function readParameterFile(json) {
  const problems = [];
  const values = {};
  if (!Array.isArray(json)) return { values, problems: ['a parameter file must be a JSON list'] };
  json.forEach((entry, i) => {
    if (!isPlainObject(entry) || typeof entry.ParameterKey !== 'string' || typeof entry.ParameterValue !== 'string') {
      problems.push(`entry ${i}: needs string ParameterKey and ParameterValue`);
      return;
    }
    const extra = Object.keys(entry).filter((k) => k !== 'ParameterKey' && k !== 'ParameterValue');
    if (extra.length) problems.push(`entry ${i} (${entry.ParameterKey}): unsupported keys ${extra.join(', ')}`);
    if (Object.prototype.hasOwnProperty.call(values, entry.ParameterKey)) problems.push(`${entry.ParameterKey} given twice`);
    values[entry.ParameterKey] = entry.ParameterValue;
  });
  return { values, problems };
}

/** Checks a parameter set against a template; returns a list of messages. */
function checkParameterValues(template, values) {
  const problems = [];
  const parameters = template.Parameters || {};
  for (const [key, value] of Object.entries(values)) {
    const p = parameters[key];
    if (!p) {
      problems.push(`${key}: not a parameter of the template${suggestion(key, Object.keys(parameters))}`);
      continue;
    }
    for (const err of parameterValueErrors(p, value)) problems.push(`${key}: ${err}`);
  }
  for (const [key, p] of Object.entries(parameters)) {
    if (p.Default === undefined && !Object.prototype.hasOwnProperty.call(values, key)) {
      problems.push(`${key}: required (no Default) but not given`);
    }
  }
  // Rules, evaluated with the effective values.
  const effective = effectiveParameters(template, values);
  for (const [name, rule] of Object.entries(template.Rules || {})) {
    let applies = true;
    if (rule.RuleCondition !== undefined) applies = evaluate(rule.RuleCondition, { template, params: effective });
    if (applies !== true) continue;
    for (const a of rule.Assertions || []) {
      const ok = evaluate(a.Assert, { template, params: effective });
      if (ok === false) problems.push(`rule ${name}: ${a.AssertDescription || 'assertion failed'}`);
    }
  }
  return problems;
}

// ---------------------------------------------------------------- static evaluation

/** Parameter defaults overlaid with the given values (all strings, as CloudFormation sees them). */
function effectiveParameters(template, values = {}) {
  const out = {};
  for (const [k, p] of Object.entries(template.Parameters || {})) {
    if (values[k] !== undefined) out[k] = String(values[k]);
    else if (p.Default !== undefined) out[k] = Array.isArray(p.Default) ? p.Default.join(',') : String(p.Default);
  }
  return out;
}

const UNRESOLVED = Symbol('unresolved');

/**
 * Evaluates an expression with known parameter values; returns UNRESOLVED (or a string with
 * markers) for what only CloudFormation can know (resource ids, imports, ...).
 * ctx = { template, params, pseudo? }.
 */
function evaluate(expr, ctx) {
  const fn = intrinsicOf(expr);
  if (!fn) {
    if (Array.isArray(expr)) return expr.map((e) => evaluate(e, ctx));
    if (isPlainObject(expr) && Object.keys(expr).length === 1 && typeof expr.Condition === 'string') {
      return evaluateCondition(expr.Condition, ctx);
    }
    return expr;
  }
  const arg = expr[fn];
  const pseudo = { 'AWS::Region': 'eu-west-1', 'AWS::AccountId': '111122223333', 'AWS::Partition': 'aws', 'AWS::StackName': 'stack', 'AWS::URLSuffix': 'amazonaws.com', ...(ctx.pseudo || {}) };
  switch (fn) {
    case 'Ref':
      if (Object.prototype.hasOwnProperty.call(ctx.params, arg)) return ctx.params[arg];
      if (Object.prototype.hasOwnProperty.call(pseudo, arg)) return pseudo[arg];
      return UNRESOLVED;
    case 'Fn::Sub': {
      const [str, vars] = Array.isArray(arg) ? arg : [arg, {}];
      let unresolved = false;
      const out = str.replace(/\$\{([^}]*)\}/g, (all, name) => {
        if (name.startsWith('!')) return `\${${name.slice(1)}}`;
        let v;
        if (Object.prototype.hasOwnProperty.call(vars, name)) v = evaluate(vars[name], ctx);
        else v = evaluate({ Ref: name }, ctx);
        if (v === UNRESOLVED || typeof v === 'object') {
          unresolved = true;
          return all;
        }
        return String(v);
      });
      return unresolved ? UNRESOLVED : out;
    }
    case 'Fn::If': {
      const c = evaluateCondition(arg[0], ctx);
      if (c === UNRESOLVED) return UNRESOLVED;
      return evaluate(c ? arg[1] : arg[2], ctx);
    }
    case 'Fn::Equals': {
      const a = evaluate(arg[0], ctx);
      const b = evaluate(arg[1], ctx);
      if (a === UNRESOLVED || b === UNRESOLVED) return UNRESOLVED;
      return String(a) === String(b);
    }
    case 'Fn::Not': {
      const a = evaluate(arg[0], ctx);
      return a === UNRESOLVED ? UNRESOLVED : !a;
    }
    case 'Fn::And':
    case 'Fn::Or': {
      const vals = arg.map((a) => evaluate(a, ctx));
      if (vals.includes(UNRESOLVED)) return UNRESOLVED;
      return fn === 'Fn::And' ? vals.every(Boolean) : vals.some(Boolean);
    }
    case 'Fn::Contains': {
      // Rules only: [list of strings, string]; parameter values are strings to a rule
      const list = evaluate(arg[0], ctx);
      const v = evaluate(arg[1], ctx);
      if (!Array.isArray(list) || list.includes(UNRESOLVED) || v === UNRESOLVED) return UNRESOLVED;
      return list.map(String).includes(String(v));
    }
    case 'Fn::Select': {
      const i = evaluate(arg[0], ctx);
      const list = evaluate(arg[1], ctx);
      if (!Array.isArray(list) || i === UNRESOLVED || list[Number(i)] === undefined) return UNRESOLVED;
      return list[Number(i)];
    }
    case 'Fn::Split': {
      const v = evaluate(arg[1], ctx);
      if (v === UNRESOLVED || typeof v !== 'string') return UNRESOLVED;
      return v.split(arg[0]);
    }
    case 'Fn::Join': {
      const list = evaluate(arg[1], ctx);
      if (!Array.isArray(list) || list.includes(UNRESOLVED)) return UNRESOLVED;
      return list.join(arg[0]);
    }
    default:
      return UNRESOLVED;
  }
}

function evaluateCondition(name, ctx) {
  const cond = (ctx.template.Conditions || {})[name];
  if (cond === undefined) return UNRESOLVED;
  return evaluate(cond, ctx);
}

module.exports = {
  checkTemplate,
  KINDS: KINDS.map(([k]) => k).concat('structure'),
  checkParameterValues,
  readParameterFile,
  parameterValueErrors,
  effectiveParameters,
  evaluate,
  evaluateCondition,
  intrinsicOf,
  isNoValue,
  isPlainObject,
  subVariables,
  UNRESOLVED,
  PSEUDO_PARAMETERS,
};
