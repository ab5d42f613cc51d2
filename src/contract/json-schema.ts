// JSON Schema validation for the files datawarden reads and writes (contracts, reports, jobs),
// with errors that name the offending field as a path such as `columns[2].type`.
//
// The build compiles each schema into a standalone validator (compileSchemas, below), so a
// command loads neither Ajv nor its compiler: together they cost a CLI call about 80 ms. A
// validator whose schema has changed since it was compiled is ignored, and the schema compiled
// here instead.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { Ajv as AjvType, ErrorObject, ValidateFunction } from 'ajv';

const require = createRequire(import.meta.url);
const SCHEMAS = new URL('../../../schemas/', import.meta.url);
const COMPILED = new URL('../../schemas/', import.meta.url);
const AJV_OPTIONS = { allErrors: false, strict: false } as const;

const validators = new Map<string, ValidateFunction>();

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function compiledPath(schemaName: string): string {
  return fileURLToPath(new URL(schemaName.replace(/\.json$/, '.validate.cjs'), COMPILED));
}

function newAjv(options: object = {}): AjvType {
  const { Ajv } = require('ajv') as typeof import('ajv');
  return new Ajv({ ...AJV_OPTIONS, ...options });
}

/** A schema from the package's schemas/ folder: its compiled validator when current, else compiled now; once. */
function validatorFor(schemaName: string): ValidateFunction {
  const cached = validators.get(schemaName);
  if (cached) return cached;
  const text = readFileSync(new URL(schemaName, SCHEMAS), 'utf8');
  const path = compiledPath(schemaName);
  const built = existsSync(path) ? (require(path) as { schemaSha256: string; validate: ValidateFunction }) : null;
  const validate = built?.schemaSha256 === sha256(text) ? built.validate : newAjv().compile(JSON.parse(text) as object);
  validators.set(schemaName, validate);
  return validate;
}

/** Writes a standalone validator for every schema in schemas/ (run by `npm run build`). */
export function compileSchemas(): string[] {
  const { default: standaloneCode } = require('ajv/dist/standalone') as { default: (ajv: AjvType, validate: ValidateFunction) => string };
  const out = fileURLToPath(COMPILED);
  mkdirSync(out, { recursive: true });
  const names = readdirSync(SCHEMAS).filter((name) => name.endsWith('.schema.json'));
  for (const name of names) {
    const text = readFileSync(new URL(name, SCHEMAS), 'utf8');
    const ajv = newAjv({ code: { source: true } });
    const code = standaloneCode(ajv, ajv.compile(JSON.parse(text) as object));
    writeFileSync(compiledPath(name), `// Compiled from schemas/${name} by the build; do not edit.\n${code}\nmodule.exports = { schemaSha256: ${JSON.stringify(sha256(text))}, validate: module.exports };\n`);
  }
  return names;
}

/** `/columns/2/type` -> `columns[2].type` */
export function fieldPath(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((part) => part.replaceAll('~1', '/').replaceAll('~0', '~'))
    .reduce((path, part) => (/^\d+$/.test(part) ? `${path}[${part}]` : path ? `${path}.${part}` : part), '');
}

function describe(error: ErrorObject): string {
  const at = fieldPath(error.instancePath);
  switch (error.keyword) {
    case 'additionalProperties':
      return `${at ? `${at}.` : ''}${String(error.params.additionalProperty)}: unknown field`;
    case 'required':
      return `${at ? `${at}.` : ''}${String(error.params.missingProperty)}: required field is missing`;
    case 'enum':
      return `${at}: must be one of ${(error.params.allowedValues as unknown[]).join(', ')}`;
    default:
      return `${at || '(top level)'}: ${error.message ?? 'is invalid'}`;
  }
}

/** The first schema violation as `field: what is wrong`, or null when the value is valid. */
export function schemaError(schemaName: string, value: unknown): string | null {
  const validate = validatorFor(schemaName);
  if (validate(value)) return null;
  return describe(validate.errors![0]!);
}
