// Building blocks for the API schemas. The schemas are written once, in TypeBox, and every other form
// (TypeScript types, ajv validators, CRD YAML, offline JSON schemas, the API reference) derives from them.
// Only constructs that are valid in a Kubernetes structural schema are used here; CEL rules carry a
// JavaScript twin so that ajv can enforce the same rule offline and in the operator (defence in depth).
import { Type, type SchemaOptions, type TSchema, type TUnsafe } from '@sinclair/typebox';

/** A CEL validation rule (x-kubernetes-validations) with its JavaScript twin. */
export interface ValidationRule {
  /** CEL expression evaluated by the API server. */
  rule: string;
  /** What the user sees when the rule fails; it names the field. */
  message: string;
  /** JSONPath-like field the API server blames (relative to the schema the rule is on). */
  fieldPath?: string;
  /** The API server's reason for the failure. */
  reason?: 'FieldValueInvalid' | 'FieldValueForbidden' | 'FieldValueRequired' | 'FieldValueDuplicate';
  /**
   * The same rule in JavaScript, for ajv. Absent for transition rules (those that read oldSelf): a single
   * object cannot be checked against its previous version offline.
   */
  check?: (self: never) => boolean;
}

export const VALIDATIONS = 'x-kubernetes-validations';

export interface KubeSchemaOptions extends SchemaOptions {
  [VALIDATIONS]?: ValidationRule[];
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-map-type'?: 'atomic' | 'granular';
}

/** A string restricted to a closed set of values, written as `enum` (structural schemas forbid anyOf/const). */
export function StringEnum<const T extends readonly string[]>(
  values: T,
  options: KubeSchemaOptions = {},
): TUnsafe<T[number]> {
  return Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...options });
}

/** A map of string to string, written with additionalProperties as CRDs require. */
export function StringMap(options: KubeSchemaOptions = {}): TUnsafe<Record<string, string>> {
  return Type.Unsafe<Record<string, string>>({
    type: 'object',
    additionalProperties: { type: 'string' },
    ...options,
  });
}

/** An object that rejects unknown fields in ajv; the CRD generator drops `additionalProperties: false`. */
export const strictObject = { additionalProperties: false } as const;

// --- Reusable string shapes -------------------------------------------------------------------------

/** RFC 1123 DNS subdomain, the name of most Kubernetes objects (Secrets, OAuthClients). */
export const DNS_SUBDOMAIN_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';
/** RFC 1123 DNS label, the name of a namespace. */
export const DNS_LABEL_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';
/** A key of a Secret's data. */
export const SECRET_KEY_PATTERN = '^[-._a-zA-Z0-9]+$';
/** A host name with at least one dot, or an IPv4 address, optionally with a port. */
export const HOST_PATTERN =
  '^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)+(:[0-9]{1,5})?$';
/** A Go-style duration as Kubernetes uses it: 90s, 10m, 1h30m. */
export const DURATION_PATTERN = '^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$';
/** An OAuth 2.0 scope token (RFC 6749 section 3.3). */
export const SCOPE_PATTERN = '^[\\x21\\x23-\\x5B\\x5D-\\x7E]+$';

const hostRegExp = new RegExp(HOST_PATTERN);
const dnsSubdomainRegExp = new RegExp(DNS_SUBDOMAIN_PATTERN);

/** Whether a string is an absolute https URL without credentials or fragment (the JS twin of the CEL rule). */
export function isHttpsUrl(value: string): boolean {
  // Not URL.canParse: on Node 24 it says yes to hosts of more than 16 KiB that the constructor then
  // throws on (found by fuzzing, test/unit/fuzz/parsers.test.ts).
  const url = URL.parse(value);
  if (url === null) return false;
  return (
    url.protocol === 'https:' &&
    url.hostname !== '' &&
    url.username === '' &&
    url.password === '' &&
    url.hash === ''
  );
}

export function isHost(value: string): boolean {
  return hostRegExp.test(value);
}

export function isDnsSubdomain(value: string): boolean {
  return value.length <= 253 && dnsSubdomainRegExp.test(value);
}

/**
 * An absolute https URL. The CEL rule uses the Kubernetes URL library; `@`-credentials and fragments are
 * refused because they have no place in a token endpoint and hide the real host from a reader.
 */
export function HttpsUrl(description: string, extra: KubeSchemaOptions = {}): TUnsafe<string> {
  return Type.Unsafe<string>({
    type: 'string',
    minLength: 9,
    maxLength: 2048,
    pattern: '^https://[^@#\\s]+$',
    description,
    ...extra,
    [VALIDATIONS]: [
      {
        rule: "isURL(self) && url(self).getScheme() == 'https' && url(self).getHostname() != ''",
        message: 'must be an absolute https URL',
        check: (self: string) => isHttpsUrl(self),
      },
      ...(extra[VALIDATIONS] ?? []),
    ],
  });
}

/**
 * A DNS host name (with at least one dot) or IPv4 address, optionally with a port; no scheme, no path.
 * `field` (e.g. `spec.auth0.domain`) is named in the rule's message, so that `https://...` or a path is
 * refused with a sentence that says which field and what to write, not only the pattern.
 */
export function HostName(description: string, field: string, extra: KubeSchemaOptions = {}): TUnsafe<string> {
  return Type.Unsafe<string>({
    type: 'string',
    minLength: 3,
    maxLength: 253,
    pattern: HOST_PATTERN,
    description,
    ...extra,
    [VALIDATIONS]: [
      {
        rule: "!self.contains('/')",
        message: `${field} must be a host name such as acme.eu.auth0.com, without a scheme (https://) or a path; a :port is allowed`,
        check: (self: string) => !self.includes('/'),
      },
      ...(extra[VALIDATIONS] ?? []),
    ],
  });
}

/** The name of an object in the same namespace. */
export function ObjectName(description: string): TUnsafe<string> {
  return Type.Unsafe<string>({
    type: 'string',
    minLength: 1,
    maxLength: 253,
    pattern: DNS_SUBDOMAIN_PATTERN,
    description,
  });
}

export function NamespaceName(description: string): TUnsafe<string> {
  return Type.Unsafe<string>({
    type: 'string',
    minLength: 1,
    maxLength: 63,
    pattern: DNS_LABEL_PATTERN,
    description,
  });
}

export function SecretKey(description: string): TUnsafe<string> {
  return Type.Unsafe<string>({
    type: 'string',
    minLength: 1,
    maxLength: 253,
    pattern: SECRET_KEY_PATTERN,
    description,
  });
}

/** OAuth scopes: a set of scope tokens. */
export function Scopes(description: string): TUnsafe<string[]> {
  return Type.Unsafe<string[]>({
    type: 'array',
    maxItems: 64,
    items: { type: 'string', minLength: 1, maxLength: 256, pattern: SCOPE_PATTERN },
    'x-kubernetes-list-type': 'set',
    description,
  });
}

/** Removes what only ajv understands, giving the plain JSON form of a schema (no functions, no symbols). */
export function toPlainJson(schema: TSchema | object): Record<string, unknown> {
  return JSON.parse(JSON.stringify(schema)) as Record<string, unknown>;
}
