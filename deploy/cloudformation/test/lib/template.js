'use strict';
// Loads a CloudFormation YAML (or JSON) template into the JSON form CloudFormation itself
// uses: short-form tags (!Ref, !GetAtt, !Sub, ...) become {"Ref": ...} / {"Fn::X": ...}.
// Also records the line of every mapping key so errors can point into the file.

const fs = require('node:fs');
const YAML = require('yaml');

// Short-form tag -> long-form key. !GetAtt's scalar form is "Resource.Attribute".
const SHORT_FORMS = {
  '!Ref': 'Ref',
  '!Condition': 'Condition',
  '!GetAtt': 'Fn::GetAtt',
  '!Sub': 'Fn::Sub',
  '!If': 'Fn::If',
  '!Equals': 'Fn::Equals',
  '!Not': 'Fn::Not',
  '!And': 'Fn::And',
  '!Or': 'Fn::Or',
  '!Join': 'Fn::Join',
  '!Select': 'Fn::Select',
  '!Split': 'Fn::Split',
  '!FindInMap': 'Fn::FindInMap',
  '!ImportValue': 'Fn::ImportValue',
  '!Base64': 'Fn::Base64',
  '!Cidr': 'Fn::Cidr',
  '!GetAZs': 'Fn::GetAZs',
  '!Transform': 'Fn::Transform',
  '!ToJsonString': 'Fn::ToJsonString',
  '!Length': 'Fn::Length',
  '!Contains': 'Fn::Contains',
  '!EachMemberEquals': 'Fn::EachMemberEquals',
  '!EachMemberIn': 'Fn::EachMemberIn',
  '!RefAll': 'Fn::RefAll',
  '!ValueOf': 'Fn::ValueOf',
  '!ValueOfAll': 'Fn::ValueOfAll',
};

class TemplateParseError extends Error {}

/** Parses template text; returns { template, lines } where lines maps "A/B/C" paths to 1-based lines. */
function parseTemplate(text, fileName = '<template>') {
  const lineCounter = new YAML.LineCounter();
  // Tags are resolved by toJs below; tell the parser they exist so it does not warn.
  const customTags = Object.keys(SHORT_FORMS).flatMap((tag) => [
    { tag, resolve: (s) => s },
    { tag, collection: 'seq', resolve: (s) => s },
    { tag, collection: 'map', resolve: (m) => m },
  ]);
  const doc = YAML.parseDocument(text, {
    lineCounter,
    customTags,
    uniqueKeys: true,
    prettyErrors: false,
    version: '1.2',
  });
  const problems = [...doc.errors, ...doc.warnings];
  if (problems.length > 0) {
    const p = problems[0];
    const pos = p.pos ? lineCounter.linePos(p.pos[0]) : { line: '?' };
    throw new TemplateParseError(`${fileName}:${pos.line}: ${p.code || 'YAML'}: ${p.message.split('\n')[0]}`);
  }
  const lines = new Map();
  const lineOf = (node) => (node && node.range ? lineCounter.linePos(node.range[0]).line : undefined);

  function toJs(node, path) {
    if (node === null || node === undefined) return null;
    let value;
    if (YAML.isAlias(node)) {
      return toJs(node.resolve(doc), path);
    } else if (YAML.isMap(node)) {
      value = {};
      for (const pair of node.items) {
        const key = YAML.isNode(pair.key) ? String(toJs(pair.key, path)) : String(pair.key);
        const childPath = path ? `${path}/${key}` : key;
        const l = lineOf(pair.key);
        if (l !== undefined) lines.set(childPath, l);
        value[key] = toJs(pair.value, childPath);
      }
    } else if (YAML.isSeq(node)) {
      value = node.items.map((item, i) => {
        const childPath = `${path}/${i}`;
        const l = lineOf(item);
        if (l !== undefined) lines.set(childPath, l);
        return toJs(item, childPath);
      });
    } else if (YAML.isScalar(node)) {
      value = node.value;
    } else if (YAML.isPair(node)) {
      throw new TemplateParseError(`${fileName}: unexpected pair at ${path}`);
    } else {
      value = node;
    }
    const tag = node.tag;
    if (tag && tag.startsWith('!') && !tag.startsWith('!!') && !tag.startsWith('tag:yaml.org')) {
      const longForm = SHORT_FORMS[tag];
      if (!longForm) {
        throw new TemplateParseError(`${fileName}:${lineOf(node)}: unknown tag ${tag}`);
      }
      if (longForm === 'Fn::GetAtt' && typeof value === 'string') {
        const dot = value.indexOf('.');
        value = dot < 0 ? [value] : [value.slice(0, dot), value.slice(dot + 1)];
      }
      if (typeof value === 'number' || typeof value === 'boolean') value = String(value);
      return { [longForm]: value };
    }
    return value;
  }

  const template = toJs(doc.contents, '');
  if (template === null || typeof template !== 'object' || Array.isArray(template)) {
    throw new TemplateParseError(`${fileName}: a template must be a mapping`);
  }
  return { template, lines };
}

function loadTemplate(file) {
  const text = fs.readFileSync(file, 'utf8');
  return { file, ...parseTemplate(text, file) };
}

module.exports = { parseTemplate, loadTemplate, TemplateParseError, SHORT_FORMS };
