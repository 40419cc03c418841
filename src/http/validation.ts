/**
 * Schema validation failures in words: `ipAddress must be an IPv4 or IPv6 address`, `userId is
 * required`, `extra is not an accepted field`, instead of the validator's own text
 * (`body/ipAddress must match pattern "^[0-9A-Fa-f.:]+$"`, `schema is false`). A field's words
 * come from its schema's `x-words` annotation when it has one, else from the keyword that failed.
 */
import { WORDS } from './schemas.js';

/** One issue as the validator reports it (TypeBox's compiler, in Ajv's shape). */
export interface ValidationIssue {
  keyword?: string;
  instancePath?: string;
  schemaPath?: string;
  params?: Record<string, unknown>;
  message?: string;
}

const WHERE: Record<string, string> = {
  body: 'the body',
  querystring: 'the query string',
  params: 'the path',
  headers: 'the headers',
};

/** `/a/0/b` → `a[0].b`; JSON Pointer escapes undone. */
function fieldName(instancePath: string): string {
  return instancePath
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((p, i) => (/^\d+$/.test(p) ? `[${p}]` : i === 0 ? p : `.${p}`))
    .join('');
}

/** The sub-schema at a JSON Pointer fragment (`#/properties/a`), or undefined. */
function schemaAt(root: unknown, schemaPath: string | undefined): Record<string, unknown> | undefined {
  if (!schemaPath?.startsWith('#')) return undefined;
  let node: unknown = root;
  for (const part of schemaPath.slice(1).split('/').slice(1)) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[part.replace(/~1/g, '/').replace(/~0/g, '~')];
  }
  return node !== null && typeof node === 'object' ? (node as Record<string, unknown>) : undefined;
}

const TYPE_WORDS: Record<string, string> = {
  string: 'a string',
  integer: 'a whole number',
  number: 'a number',
  boolean: 'true or false',
  object: 'a JSON object',
  array: 'a list',
  null: 'null',
};

function genericWords(issue: ValidationIssue, schema: Record<string, unknown> | undefined): string {
  const p = issue.params ?? {};
  const s = schema ?? {};
  switch (issue.keyword) {
    case 'type': {
      const type = s.type ?? p.type;
      return `must be ${TYPE_WORDS[String(type)] ?? String(type)}`;
    }
    case 'minLength':
      return s.minLength === 1 ? 'must not be empty' : `must be at least ${String(s.minLength)} characters`;
    case 'maxLength':
      return `must be at most ${String(s.maxLength ?? p.limit)} characters`;
    case 'minimum':
      return `must be at least ${String(s.minimum ?? p.limit)}`;
    case 'maximum':
      return `must be at most ${String(s.maximum ?? p.limit)}`;
    case 'maxItems':
      return `must have at most ${String(s.maxItems ?? p.limit)} entries`;
    case 'minItems':
      return `must have at least ${String(s.minItems ?? p.limit)} entries`;
    case 'enum':
    case 'const':
    case 'anyOf':
      return Array.isArray(s.enum)
        ? `must be one of ${s.enum.join(', ')}`
        : 'has a value that is not accepted';
    case 'format':
      return `must be a valid ${String(s.format ?? p.format)}`;
    case 'pattern':
      return 'has characters that are not accepted';
    default:
      return issue.message ?? 'is not valid';
  }
}

/**
 * The message of a validation error of `context` (`body`, `querystring`, `params`) against the
 * route's schema for it. Several issues are joined with `; `; the same field is named once.
 */
export function validationMessage(
  issues: readonly ValidationIssue[],
  context: string,
  schema: unknown,
): string {
  const parts: string[] = [];
  const named = new Set<string>();
  const say = (field: string, words: string) => {
    if (named.has(field)) return;
    named.add(field);
    parts.push(`${field} ${words}`);
  };
  for (const issue of issues) {
    const path = fieldName(issue.instancePath ?? '');
    const prefix = path === '' ? '' : `${path}.`;
    if (issue.keyword === 'required') {
      const missing = (issue.params?.requiredProperties ?? [issue.params?.missingProperty]) as unknown[];
      for (const m of missing) if (typeof m === 'string') say(`${prefix}${m}`, 'is required');
      continue;
    }
    if (issue.keyword === 'additionalProperties') {
      const extra = (issue.params?.additionalProperties ?? [issue.params?.additionalProperty]) as unknown[];
      for (const e of extra) if (typeof e === 'string') say(`${prefix}${e}`, 'is not an accepted field');
      continue;
    }
    // `schema is false`: the same extra field, reported by additionalProperties above.
    if (issue.keyword === 'boolean') continue;
    const node = schemaAt(schema, issue.schemaPath);
    // No body at all where one is needed: name the fields it needs.
    if (issue.keyword === 'type' && path === '' && node?.type === 'object' && Array.isArray(node.required)) {
      if (node.required.length > 0) {
        for (const m of node.required) if (typeof m === 'string') say(m, 'is required');
        continue;
      }
    }
    const words = typeof node?.[WORDS] === 'string' ? (node[WORDS] as string) : genericWords(issue, node);
    say(path === '' ? (WHERE[context] ?? context) : path, words);
  }
  return parts.length > 0 ? parts.join('; ') : `${WHERE[context] ?? context} is not valid`;
}

/** For `toHttpError`: words for the validation errors of `request`'s route. */
export function describeValidationOf(request: {
  routeOptions?: { schema?: object | undefined };
}): (err: { validation?: unknown; validationContext?: string | undefined }) => string {
  return (err) => {
    const context = err.validationContext ?? 'body';
    const schema = (request.routeOptions?.schema as Record<string, unknown> | undefined)?.[context];
    return validationMessage(err.validation as ValidationIssue[], context, schema);
  };
}
