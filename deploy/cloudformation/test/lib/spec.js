'use strict';
// Index over the CloudFormation resource schemas shipped in @aws-cdk/aws-service-spec
// (db.json.gz, generated from the CloudFormation registry schemas).
// Raw layout: schema.resource.entities[] = { cloudFormationType, properties, attributes },
// schema.typeDefinition.entities[] = { $id, name, properties }; a property is
// { type, required?, previousTypes? } and a type is one of
// string|integer|number|boolean|date-time|json|tag|array{element}|map{element}|ref{reference.$ref}|union{types}.

const fs = require('node:fs');
const path = require('node:path');
const zlib = require('node:zlib');

let cached;

function specPackageDir() {
  return path.dirname(require.resolve('@aws-cdk/aws-service-spec/package.json'));
}

function loadSpec() {
  if (cached) return cached;
  const dir = specPackageDir();
  const version = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).version;
  const raw = JSON.parse(zlib.gunzipSync(fs.readFileSync(path.join(dir, 'db.json.gz'))).toString('utf8'));
  const resources = new Map();
  for (const r of raw.schema.resource.entities) resources.set(r.cloudFormationType, r);
  const typeDefs = new Map();
  for (const t of raw.schema.typeDefinition.entities) typeDefs.set(t.$id, t);
  cached = {
    version,
    resources,
    typeDefs,
    resource(type) {
      return resources.get(type);
    },
    typeDef(ref) {
      return typeDefs.get(ref.$ref);
    },
  };
  return cached;
}

module.exports = { loadSpec };
