// ajv validators for coffre's resources, compiled once by createValidators() (called from main.ts). The
// API server is the first line of defence (schema + CEL); these validators are the second: the operator
// checks every object it reconciles, so an object stored before a CRD upgrade, or on a server that does
// not evaluate CEL, still gets a precise message instead of undefined behaviour.
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import {
  OAuthClientSchema,
  VaultConnectionSchema,
  type OAuthClient,
  type VaultConnection,
} from './v1alpha1/resources.ts';
import { VALIDATIONS, type ValidationRule } from './v1alpha1/schema-kit.ts';

export interface FieldProblem {
  /** Dotted path of the offending field, e.g. `spec.auth0.domain`. */
  field: string;
  /** What is wrong, without echoing the value. */
  message: string;
}

export type ValidationResult<T> = { ok: true; value: T } | { ok: false; problems: FieldProblem[] };

export interface Validators {
  vaultConnection(object: unknown): ValidationResult<VaultConnection>;
  oauthClient(object: unknown): ValidationResult<OAuthClient>;
}

// ajv-formats is CommonJS; its default export arrives wrapped under ESM.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

export function createValidators(): Validators {
  const ajv = new Ajv({ allErrors: true, strict: true, strictTypes: false });
  addFormats(ajv);
  ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isSafeInteger(n) });
  ajv.addVocabulary(['x-kubernetes-list-type', 'x-kubernetes-list-map-keys', 'x-kubernetes-map-type']);
  const celTwin: ((rules: ValidationRule[], data: unknown) => boolean) & {
    errors?: Partial<ErrorObject>[];
  } = (rules, data) => {
    // With allErrors, ajv runs these twins on data that already failed its type (a null spec, a number
    // for a string): a twin that throws on such data counts as failed, its type error is reported too.
    const failed = rules.filter((rule) => {
      if (rule.check === undefined) return false;
      try {
        return !(rule.check as (s: unknown) => boolean)(data);
      } catch {
        return true;
      }
    });
    celTwin.errors = failed.map((rule) => ({
      keyword: VALIDATIONS,
      message: rule.message,
      params: { fieldPath: rule.fieldPath ?? '' },
    }));
    return failed.length === 0;
  };
  ajv.addKeyword({ keyword: VALIDATIONS, schemaType: 'array', errors: true, validate: celTwin });
  const vaultConnection = ajv.compile<VaultConnection>(VaultConnectionSchema);
  const oauthClient = ajv.compile<OAuthClient>(OAuthClientSchema);
  return {
    vaultConnection: (object) => run(vaultConnection, object),
    oauthClient: (object) => run(oauthClient, object),
  };
}

function run<T>(validate: ValidateFunction<T>, object: unknown): ValidationResult<T> {
  if (validate(object)) return { ok: true, value: object };
  return { ok: false, problems: describeErrors(validate.errors ?? []) };
}

/** Turns ajv errors into field-named problems, most specific first, without repeating one twice. */
export function describeErrors(errors: readonly ErrorObject[]): FieldProblem[] {
  const seen = new Set<string>();
  const problems: FieldProblem[] = [];
  for (const error of errors) {
    const problem = describeError(error);
    const key = `${problem.field}\u0000${problem.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    problems.push(problem);
  }
  return problems;
}

function describeError(error: ErrorObject): FieldProblem {
  const base = pathToField(error.instancePath);
  const join = (child: string) => (base === '' ? child : `${base}.${child}`);
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required':
      return { field: join(String(params.missingProperty)), message: 'is required' };
    case 'additionalProperties':
      return { field: join(String(params.additionalProperty)), message: 'is not a known field' };
    case 'enum':
      return {
        field: base,
        message: `must be one of: ${(params.allowedValues as unknown[]).map(String).join(', ')}`,
      };
    case 'const':
      return { field: base, message: `must be ${JSON.stringify(params.allowedValue)}` };
    case VALIDATIONS: {
      const fieldPath = typeof params.fieldPath === 'string' ? params.fieldPath : '';
      return { field: (base + fieldPath).replace(/^\./, ''), message: error.message ?? 'is invalid' };
    }
    default:
      return { field: base === '' ? '(root)' : base, message: error.message ?? 'is invalid' };
  }
}

function pathToField(instancePath: string): string {
  if (instancePath === '') return '';
  return instancePath
    .slice(1)
    .split('/')
    .map((segment) => segment.replaceAll('~1', '/').replaceAll('~0', '~'))
    .map((segment, index) => (/^\d+$/.test(segment) ? `[${segment}]` : index === 0 ? segment : `.${segment}`))
    .join('');
}

export function formatProblems(problems: readonly FieldProblem[]): string {
  return problems.map((p) => `${p.field}: ${p.message}`).join('; ');
}
