// `kubectl coffre create TYPE NAME`: the vault page's "Add Vault Connection" flow. Asks for the type's
// settings and credentials (secrets without echo), or takes --empty, then creates the Secret and the
// VaultConnection as the user; or, with --dry-run=client, prints them for a GitOps repository — the
// Secret as a stub with blank values, to fill in or to seal, never with a value typed here.
import { stringify } from 'yaml';
import {
  ConnectionTypes,
  connectionTypes,
  type ConnectionType,
  type CredentialVariant,
} from '../api/v1alpha1/connection-types.ts';
import { API_VERSION } from '../api/v1alpha1/resources.ts';
import { OAuthGrants } from '../api/v1alpha1/vault-connection.ts';
import { createValidators, formatProblems } from '../api/validation.ts';
import { isKubeApiError } from '../controller/kube-http.ts';
import {
  booleanFlag,
  connectionFlags,
  listFlag,
  outputFlag,
  stringFlag,
  type Command,
  type FlagValues,
} from './command.ts';
import { CliError, ExitCode, usageError } from './errors.ts';
import { parseOutputFormat, printStructured } from './format.ts';
import type { CliIo } from './io.ts';
import { asCliError, type CliKube } from './kube.ts';
import { terminalPrompter, type Prompter } from './prompt.ts';

const FORMATS = ['yaml', 'json'] as const;

/** Credential keys that identify rather than authenticate: asked in the open. Every other key is secret. */
const PUBLIC_KEYS: ReadonlySet<string> = new Set([
  'clientId',
  'accountSid',
  'apiKeySid',
  'email',
  'username',
]);

interface Setting {
  flag: string;
  question: string;
  required: boolean;
  /** Where the value goes in the type's settings block. */
  field: string;
  list?: boolean;
  choices?: readonly string[];
  defaultValue?: (answers: Record<string, string>) => string | undefined;
}

const SETTINGS: Partial<Record<ConnectionType, readonly Setting[]>> = {
  auth0: [
    {
      flag: 'domain',
      field: 'domain',
      question: 'Auth0 tenant domain (e.g. acme.eu.auth0.com)',
      required: true,
    },
    {
      flag: 'audience',
      field: 'audience',
      question: 'Audience',
      required: false,
      defaultValue: (a) => (a.domain === undefined ? undefined : `https://${a.domain}/api/v2/`),
    },
    {
      flag: 'scopes',
      field: 'scopes',
      question: 'Scopes, least privilege (e.g. read:users)',
      required: false,
      list: true,
    },
  ],
  oauth2: [
    {
      flag: 'grant',
      field: 'grant',
      question: 'Grant',
      required: false,
      choices: OAuthGrants,
      defaultValue: () => 'client_credentials',
    },
    { flag: 'audience', field: 'audience', question: 'Audience (empty: none)', required: false },
    { flag: 'scopes', field: 'scopes', question: 'Scopes (empty: none)', required: false, list: true },
  ],
  shopify: [
    {
      flag: 'shop-domain',
      field: 'shopDomain',
      question: 'Shop domain (e.g. acme.myshopify.com)',
      required: true,
    },
    { flag: 'scopes', field: 'scopes', question: 'Scopes (empty: none)', required: false, list: true },
  ],
  zendesk: [
    {
      flag: 'subdomain',
      field: 'subdomain',
      question: 'Zendesk subdomain (acme for acme.zendesk.com)',
      required: true,
    },
  ],
};

export const createCommand: Command = {
  name: 'create',
  usage: 'create TYPE NAME [flags]',
  summary: 'Add a connection: prompts for its settings and credentials (secrets without echo), or --empty.',
  description: [
    `TYPE is one of ${ConnectionTypes.join(', ')}.`,
    'Asks for what the type needs (each value can also be given by flag, or --from-literal KEY=VALUE for',
    'credentials), reads secret keys without echo, then creates the Secret NAME (--secret-name) and the',
    'VaultConnection NAME as you: you need create on both, and get on the Secret (the admission policy).',
    '--empty creates the connection without credentials: it is Empty until the Secret it names exists.',
    '--dry-run=client prints the VaultConnection and the Secret as a stub with blank values (to fill in or',
    'to seal) instead of creating anything; no secret is asked for then. oauth2 uses an OAuthClient',
    '(--oauth-client); its credentials Secret holds only a refresh token, for grant refresh_token.',
  ].join('\n'),
  flags: {
    ...connectionFlags,
    empty: {
      type: 'boolean',
      description: 'Create the connection without credentials (Empty until its Secret exists).',
    },
    'dry-run': {
      type: 'string',
      value: 'client',
      description: 'Print the objects instead of creating them (client only).',
    },
    ...outputFlag(FORMATS),
    'secret-name': {
      type: 'string',
      value: 'NAME',
      description: "Name of the credentials Secret (default: the connection's).",
    },
    'from-literal': {
      type: 'string',
      multiple: true,
      value: 'KEY=VALUE',
      description: 'A credential key, as kubectl create secret takes it (repeatable).',
    },
    variant: {
      type: 'string',
      value: 'NAME',
      description: 'Which credential set, for types with several (e.g. twilio api-key).',
    },
    'oauth-client': {
      type: 'string',
      value: 'NAME',
      description: 'oauth2 (or auth0): the OAuthClient to use.',
    },
    domain: { type: 'string', value: 'DOMAIN', description: 'auth0: the tenant domain.' },
    audience: { type: 'string', value: 'AUDIENCE', description: 'auth0, oauth2: the audience.' },
    scopes: {
      type: 'string',
      value: 'SCOPES',
      description: 'auth0, oauth2, shopify: scopes, comma or space separated.',
    },
    grant: {
      type: 'string',
      value: 'GRANT',
      description: 'oauth2: client_credentials (default) or refresh_token.',
    },
    'shop-domain': {
      type: 'string',
      value: 'DOMAIN',
      description: 'shopify: the shop, e.g. acme.myshopify.com.',
    },
    subdomain: { type: 'string', value: 'NAME', description: 'zendesk: the subdomain.' },
  },
  examples: [
    'kubectl coffre create auth0 auth0-management -n payments',
    'kubectl coffre create apiKey crm --empty',
    'kubectl coffre create auth0 mgmt --domain acme.eu.auth0.com --dry-run=client -o yaml > mgmt.yaml',
  ],
  async run({ io, args, flags, kube }) {
    const [typeArg, name, ...rest] = args;
    if (typeArg === undefined || name === undefined || rest.length > 0)
      throw usageError('create takes TYPE and NAME');
    const type = ConnectionTypes.find((t) => t.toLowerCase() === typeArg.toLowerCase());
    if (type === undefined)
      throw usageError(`unknown type ${typeArg}: expected one of ${ConnectionTypes.join(', ')}`);
    const dryRunFlag = stringFlag(flags, 'dry-run');
    if (dryRunFlag !== undefined && dryRunFlag !== 'client' && dryRunFlag !== 'none') {
      throw usageError(`--dry-run=${dryRunFlag}: only client (or none) is supported`);
    }
    const dryRun = dryRunFlag === 'client';
    const format = parseOutputFormat(stringFlag(flags, 'output') ?? 'yaml', FORMATS);
    const empty = booleanFlag(flags, 'empty');
    const literals = parseLiterals(listFlag(flags, 'from-literal'));

    const interactive = io.stdin.isTTY;
    const prompter = interactive ? terminalPrompter(io.stdin, io.stderr) : undefined;
    try {
      const answers = await askSettings(type, flags, prompter);
      const plan = await planCredentials(type, name, flags, answers, literals, { empty, dryRun, prompter });
      const connection = connectionObject(type, name, answers, plan.secretName);
      const namespace = stringFlag(flags, 'namespace');
      if (dryRun) {
        if (literals.size > 0) {
          io.stderr.write(
            'warning: a dry run prints the Secret as a stub: the --from-literal values are left out\n',
          );
        }
        const validation = createValidators().vaultConnection({
          ...connection,
          metadata: { ...connection.metadata, namespace: namespace ?? 'default' },
        });
        if (!validation.ok)
          throw usageError(`the connection would be refused: ${formatProblems(validation.problems)}`);
        const objects = [
          ...(plan.stubKeys === undefined
            ? []
            : [secretStub(name, plan.secretName ?? name, plan.stubKeys, namespace)]),
          withNamespace(connection, namespace),
        ];
        if (format === 'json')
          printStructured(
            io.stdout,
            'json',
            objects.length === 1 ? objects[0] : { apiVersion: 'v1', kind: 'List', items: objects },
          );
        else io.stdout.write(objects.map((o) => stringify(o)).join('---\n'));
        return ExitCode.Ok;
      }
      const client = await kube();
      await createObjects(io, client, connection, plan);
      return ExitCode.Ok;
    } finally {
      prompter?.close();
    }
  },
};

function parseLiterals(entries: readonly string[]): Map<string, string> {
  const literals = new Map<string, string>();
  for (const entry of entries) {
    const eq = entry.indexOf('=');
    // The entry may hold a secret: the message never repeats it.
    if (eq <= 0) throw usageError('--from-literal: expected KEY=VALUE');
    literals.set(entry.slice(0, eq), entry.slice(eq + 1));
  }
  return literals;
}

async function ask(
  prompter: Prompter | undefined,
  flag: string,
  question: string,
  options: { secret?: boolean; defaultValue?: string; required: boolean },
): Promise<string | undefined> {
  if (prompter === undefined) {
    if (options.required) throw usageError(`missing ${flag} (no terminal to ask on)`);
    return options.defaultValue;
  }
  for (;;) {
    const answer = await prompter.ask(question, options);
    if (answer !== '' || !options.required) return answer === '' ? undefined : answer;
  }
}

async function askSettings(
  type: ConnectionType,
  flags: FlagValues,
  prompter: Prompter | undefined,
): Promise<Record<string, string>> {
  const answers: Record<string, string> = {};
  if (type === 'oauth2' || (type === 'auth0' && stringFlag(flags, 'oauth-client') !== undefined)) {
    const client =
      stringFlag(flags, 'oauth-client') ??
      (await ask(prompter, '--oauth-client', 'OAuthClient name', { required: true }));
    if (client !== undefined) answers['oauth-client'] = client;
  }
  for (const setting of SETTINGS[type] ?? []) {
    const given = stringFlag(flags, setting.flag);
    const defaultValue = setting.defaultValue?.(answers);
    const value =
      given ??
      (await ask(
        prompter,
        `--${setting.flag}`,
        `${setting.question}${setting.choices === undefined ? '' : ` (${setting.choices.join(' | ')})`}`,
        {
          required: setting.required,
          ...(defaultValue === undefined ? {} : { defaultValue }),
        },
      ));
    if (value !== undefined && value !== '') {
      if (setting.choices !== undefined && !setting.choices.includes(value)) {
        throw usageError(`--${setting.flag} ${value}: expected one of ${setting.choices.join(', ')}`);
      }
      answers[setting.flag] = value;
    }
  }
  return answers;
}

interface CredentialPlan {
  /** The credentials Secret to reference, if any. */
  secretName?: string;
  /** Keys and values to create the Secret with (not in a dry run, not when empty). */
  data?: Map<string, string>;
  /** The keys of the stub printed by a dry run. */
  stubKeys?: readonly string[];
  variant?: CredentialVariant;
}

function variantsFor(type: ConnectionType, answers: Record<string, string>): readonly CredentialVariant[] {
  const { variants } = connectionTypes[type];
  if (type === 'oauth2') return answers.grant === 'refresh_token' ? variants : [];
  if (type === 'auth0' && answers['oauth-client'] !== undefined) return [];
  return variants;
}

async function planCredentials(
  type: ConnectionType,
  name: string,
  flags: FlagValues,
  answers: Record<string, string>,
  literals: ReadonlyMap<string, string>,
  { empty, dryRun, prompter }: { empty: boolean; dryRun: boolean; prompter: Prompter | undefined },
): Promise<CredentialPlan> {
  const variants = variantsFor(type, answers);
  if (variants.length === 0) {
    if (literals.size > 0) throw usageError(`a ${type} connection on an OAuthClient takes no --from-literal`);
    return {};
  }
  const secretName = stringFlag(flags, 'secret-name') ?? name;
  const variant = await chooseVariant(variants, flags, literals, prompter, empty || dryRun);
  if (empty) return { secretName, variant };
  if (dryRun) return { secretName, stubKeys: variant.keys, variant };
  const data = new Map<string, string>();
  for (const key of variant.keys) {
    const value =
      literals.get(key) ??
      (await ask(
        prompter,
        `--from-literal ${key}=...`,
        `${key}${PUBLIC_KEYS.has(key) ? '' : ' (input hidden)'}`,
        {
          required: true,
          secret: !PUBLIC_KEYS.has(key),
        },
      ));
    if (value !== undefined) data.set(key, value);
  }
  for (const [key, value] of literals) {
    if (!data.has(key)) data.set(key, value);
  }
  return { secretName, data, variant };
}

async function chooseVariant(
  variants: readonly CredentialVariant[],
  flags: FlagValues,
  literals: ReadonlyMap<string, string>,
  prompter: Prompter | undefined,
  noValues: boolean,
): Promise<CredentialVariant> {
  const named = stringFlag(flags, 'variant');
  if (named !== undefined) {
    const found = variants.find((v) => v.name === named);
    if (found === undefined)
      throw usageError(`--variant ${named}: expected one of ${variants.map((v) => v.name).join(', ')}`);
    return found;
  }
  const first = variants[0];
  if (first === undefined) throw new CliError('no credential variant', ExitCode.Usage);
  if (variants.length === 1) return first;
  const fromLiterals = variants.find((v) => v.keys.every((k) => literals.has(k)));
  if (fromLiterals !== undefined) return fromLiterals;
  if (prompter === undefined || noValues) return first;
  const menu = variants.map((v, i) => `${i + 1}) ${v.name}: ${v.keys.join(', ')}`).join('; ');
  for (;;) {
    const answer = (await prompter.ask(`Credentials — ${menu}`, { defaultValue: '1' })).trim();
    const chosen = variants[Number(answer) - 1] ?? variants.find((v) => v.name === answer);
    if (chosen !== undefined) return chosen;
  }
}

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [key: string]: unknown;
}

function connectionObject(
  type: ConnectionType,
  name: string,
  answers: Record<string, string>,
  secretName: string | undefined,
): Manifest {
  const settings: Record<string, unknown> = {};
  for (const setting of SETTINGS[type] ?? []) {
    const value = answers[setting.flag];
    if (value === undefined) continue;
    settings[setting.field] = setting.list === true ? value.split(/[\s,]+/).filter((s) => s !== '') : value;
  }
  if (type === 'auth0' && settings.audience === `https://${answers.domain ?? ''}/api/v2/`)
    delete settings.audience;
  if (type === 'oauth2' && settings.grant === 'client_credentials') delete settings.grant;
  const needsBlock = (SETTINGS[type] ?? []).some((s) => s.required) || Object.keys(settings).length > 0;
  return {
    apiVersion: API_VERSION,
    kind: 'VaultConnection',
    metadata: { name },
    spec: {
      type,
      ...(answers['oauth-client'] === undefined ? {} : { oauthClientRef: { name: answers['oauth-client'] } }),
      ...(secretName === undefined ? {} : { credentialsRef: { name: secretName } }),
      ...(needsBlock ? { [type]: settings } : {}),
    },
  };
}

function withNamespace(object: Manifest, namespace: string | undefined): Manifest {
  return namespace === undefined ? object : { ...object, metadata: { ...object.metadata, namespace } };
}

function secretStub(
  connection: string,
  name: string,
  keys: readonly string[],
  namespace: string | undefined,
): Manifest {
  return withNamespace(
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name, labels: { 'coffre.dev/credentials-for': connection } },
      type: 'Opaque',
      // A stub: fill the values in, then seal or encrypt it (SOPS, Sealed Secrets); never commit it as is.
      stringData: Object.fromEntries(keys.map((key) => [key, ''])),
    },
    namespace,
  );
}

async function createObjects(
  io: CliIo,
  client: CliKube,
  connection: Manifest,
  plan: CredentialPlan,
): Promise<void> {
  const namespace = client.namespace;
  let createdSecret = false;
  if (plan.data !== undefined && plan.secretName !== undefined) {
    const secret = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: plan.secretName, labels: { 'coffre.dev/credentials-for': connection.metadata.name } },
      type: 'Opaque',
      stringData: Object.fromEntries(plan.data),
    };
    try {
      await client.http.json(`/api/v1/namespaces/${namespace}/secrets`, {
        method: 'POST',
        contentType: 'application/json',
        body: JSON.stringify(secret),
      });
      createdSecret = true;
    } catch (error) {
      if (isKubeApiError(error, 409)) {
        throw new CliError(
          `Secret ${plan.secretName} already exists in ${namespace}: choose --secret-name, or delete it`,
          ExitCode.Usage,
        );
      }
      throw asCliError(error);
    }
    io.stdout.write(`secret/${plan.secretName} created\n`);
  }
  try {
    await client.http.json(`/apis/${API_VERSION}/namespaces/${namespace}/vaultconnections`, {
      method: 'POST',
      contentType: 'application/json',
      body: JSON.stringify(connection),
    });
  } catch (error) {
    if (createdSecret && plan.secretName !== undefined) {
      // Leave nothing behind that no connection uses.
      await client.http
        .json(`/api/v1/namespaces/${namespace}/secrets/${plan.secretName}`, { method: 'DELETE' })
        .catch(() => undefined);
      io.stderr.write(`secret/${plan.secretName} deleted again\n`);
    }
    if (isKubeApiError(error, 409)) {
      throw new CliError(
        `vaultconnection ${connection.metadata.name} already exists in ${namespace}`,
        ExitCode.Usage,
      );
    }
    throw asCliError(error);
  }
  io.stdout.write(`vaultconnection/${connection.metadata.name} created\n`);
  if (plan.data === undefined && plan.secretName !== undefined && plan.variant !== undefined) {
    const keys = plan.variant.keys.map((key) => `--from-literal=${key}=...`).join(' ');
    io.stdout.write(
      `It is Empty until its credentials exist: kubectl -n ${namespace} create secret generic ${plan.secretName} ${keys}\n`,
    );
  }
}
