/**
 * Validates values against Telnyx's own OpenAPI spec (test/fixtures/messaging-openapi.yml), so the
 * client's requests and the simulator's responses are checked against the source of truth rather
 * than against our zod schemas (which could share our misreadings).
 *
 * OpenAPI 3.1 schemas are JSON Schema 2020-12: the whole document is registered with Ajv once, and
 * every schema is addressed by a JSON pointer into it, so internal `$ref`s resolve as written.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import formatsModule from 'ajv-formats';
import { parse } from 'yaml';

export const specPath = fileURLToPath(new URL('../fixtures/messaging-openapi.yml', import.meta.url));

/** Registered id of the spec document inside Ajv. */
const specId = 'telnyx-messaging-openapi';

export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

export interface SpecValidation {
  valid: boolean;
  /** One line per violation: `<instance path> <message>` (empty when valid). */
  errors: string[];
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

let cached: { doc: JsonObject; ajv: Ajv2020; validators: Map<string, ValidateFunction> } | undefined;

function state(): NonNullable<typeof cached> {
  if (cached !== undefined) return cached;
  const doc = parse(readFileSync(specPath, 'utf8')) as JsonObject;
  // strict: false because OpenAPI adds keywords JSON Schema does not know (example, x-format, …).
  const ajv = new Ajv2020({ strict: false, allErrors: true, logger: false });
  formatsModule.default(ajv);
  // OpenAPI's `url` format is not a JSON Schema format; WHATWG URL parsing is what Telnyx means.
  ajv.addFormat('url', (value: string) => URL.canParse(value));
  ajv.addSchema(doc as object, specId);
  cached = { doc, ajv, validators: new Map() };
  return cached;
}

/** The parsed spec document. */
export function loadSpec(): Readonly<Record<string, unknown>> {
  return state().doc;
}

/** RFC 6901 escaping of one pointer segment. */
export function pointerSegment(segment: string): string {
  return segment.replaceAll('~', '~0').replaceAll('/', '~1');
}

/** The value at a JSON pointer (`#/components/schemas/X`) in the spec; throws when absent. */
export function resolvePointer(pointer: string): unknown {
  if (!pointer.startsWith('#/')) throw new Error(`Not a local JSON pointer: ${pointer}`);
  let node: Json = state().doc;
  for (const raw of pointer.slice(2).split('/')) {
    const key = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    if (node === null || typeof node !== 'object' || !(key in node)) {
      throw new Error(`The spec has nothing at ${pointer} (stopped at "${key}")`);
    }
    node = (node as Record<string, Json>)[key] as Json;
  }
  return node;
}

/** `#/components/schemas/<name>` for a component name; pointers pass through unchanged. */
export function schemaPointer(schemaRef: string): string {
  if (schemaRef.startsWith('#/')) return schemaRef;
  return `#/components/schemas/${pointerSegment(schemaRef)}`;
}

/** The JSON pointer of a path operation, e.g. `#/paths/~1messages~1long_code/post`. */
export function operationPointer(path: string, method: HttpMethod): string {
  const pointer = `#/paths/${pointerSegment(path)}/${method}`;
  resolvePointer(pointer);
  return pointer;
}

/** The JSON pointer of an operation's `application/json` request body schema. */
export function requestBodySchemaRef(path: string, method: HttpMethod): string {
  const pointer = `${operationPointer(path, method)}/requestBody/content/application~1json/schema`;
  resolvePointer(pointer);
  return pointer;
}

/** The JSON pointer of a webhook's request body schema (`deliveryUpdate`, `inboundMessage`, …). */
export function webhookBodySchemaRef(name: string): string {
  const pointer = `#/webhooks/${pointerSegment(name)}/post/requestBody/content/application~1json/schema`;
  resolvePointer(pointer);
  return pointer;
}

/**
 * The JSON pointer of an operation's `application/json` response schema for `status`, choosing as
 * OpenAPI does: the exact code, then its range (`4XX`), then `default`. A response given as a `$ref`
 * (`#/components/responses/…`) is followed. Throws when the spec defines no JSON body for it.
 */
export function responseSchemaRef(path: string, method: HttpMethod, status: number): string {
  const op = operationPointer(path, method);
  const responses = resolvePointer(`${op}/responses`) as Record<string, unknown>;
  const key = [String(status), `${String(status)[0]}XX`, 'default'].find((k) => k in responses);
  if (key === undefined) throw new Error(`${method.toUpperCase()} ${path} defines no response for ${status}`);
  let pointer = `${op}/responses/${key}`;
  const response = resolvePointer(pointer) as { $ref?: string };
  if (typeof response.$ref === 'string') pointer = response.$ref;
  const schema = `${pointer}/content/application~1json/schema`;
  resolvePointer(schema);
  return schema;
}

/** Validates `value` against a component schema name or any JSON pointer into the spec. */
export function validateAgainstSpec(schemaRef: string, value: unknown): SpecValidation {
  const validate = validator(schemaPointer(schemaRef));
  const valid = validate(value) === true;
  return { valid, errors: valid ? [] : formatErrors(validate.errors) };
}

export function validateRequestBody(path: string, method: HttpMethod, value: unknown): SpecValidation {
  return validateAgainstSpec(requestBodySchemaRef(path, method), value);
}

export function validateResponse(path: string, method: HttpMethod, status: number, value: unknown): SpecValidation {
  return validateAgainstSpec(responseSchemaRef(path, method, status), value);
}

/**
 * The top-level property names a schema declares (following `$ref`s). The spec never sets
 * `additionalProperties: false`, so a misspelt or unsupported field passes validation silently;
 * comparing keys with this list catches it.
 */
export function declaredProperties(schemaRef: string): string[] {
  let schema = resolvePointer(schemaPointer(schemaRef)) as { $ref?: string; properties?: Record<string, unknown> };
  for (let hops = 0; typeof schema.$ref === 'string'; hops++) {
    if (hops > 10) throw new Error(`$ref chain too long at ${schemaRef}`);
    schema = resolvePointer(schema.$ref) as typeof schema;
  }
  return Object.keys(schema.properties ?? {});
}

/** Keys of `value` that the schema does not declare (empty when every key is known). */
export function undeclaredKeys(schemaRef: string, value: Record<string, unknown>): string[] {
  const declared = new Set(declaredProperties(schemaRef));
  return Object.keys(value).filter((k) => !declared.has(k));
}

/** The `example` the spec gives for a component schema (or the schema at a pointer). */
export function specExample(schemaRef: string): unknown {
  const schema = resolvePointer(schemaPointer(schemaRef)) as { example?: unknown };
  if (schema.example === undefined) throw new Error(`The spec gives no example for ${schemaRef}`);
  return structuredClone(schema.example);
}

/** Every component schema that carries an `example`, by name. */
export function componentExamples(): Map<string, unknown> {
  const schemas = resolvePointer('#/components/schemas') as Record<string, { example?: unknown }>;
  const out = new Map<string, unknown>();
  for (const [name, schema] of Object.entries(schemas)) {
    if (schema.example !== undefined) out.set(name, structuredClone(schema.example));
  }
  return out;
}

function validator(pointer: string): ValidateFunction {
  const { ajv, validators } = state();
  let validate = validators.get(pointer);
  if (validate === undefined) {
    resolvePointer(pointer);
    const found = ajv.getSchema(`${specId}${pointer}`);
    if (found === undefined) throw new Error(`Ajv cannot compile the schema at ${pointer}`);
    validate = found;
    validators.set(pointer, validate);
  }
  return validate;
}

function formatErrors(errors: ErrorObject[] | null | undefined): string[] {
  return (errors ?? []).map((e) => {
    const where = e.instancePath === '' ? '(root)' : e.instancePath;
    const extra = e.keyword === 'enum' ? ` ${JSON.stringify(e.params['allowedValues'])}` : '';
    const prop = e.keyword === 'additionalProperties' ? ` "${String(e.params['additionalProperty'])}"` : '';
    return `${where} ${e.message ?? e.keyword}${extra}${prop}`;
  });
}
