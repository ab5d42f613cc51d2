// JSON Schema validation for the files datawarden reads and writes (contracts, reports, jobs),
// with errors that name the offending field as a path such as `columns[2].type`.
import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';

const ajv = new Ajv({ allErrors: false, strict: false });
const compiled = new Map<string, ValidateFunction>();

/** A schema from the package's schemas/ folder, compiled once. */
function validatorFor(schemaName: string): ValidateFunction {
  const cached = compiled.get(schemaName);
  if (cached) return cached;
  const url = new URL(`../../../schemas/${schemaName}`, import.meta.url);
  const validate = ajv.compile(JSON.parse(readFileSync(url, 'utf8')) as object);
  compiled.set(schemaName, validate);
  return validate;
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
