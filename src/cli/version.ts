// `kubectl coffre version`: this plugin's version and the operator's (its Deployment's
// app.kubernetes.io/version label), with a warning when they differ.
import packageJson from '../../package.json' with { type: 'json' };
import {
  connectionFlags,
  DEFAULT_OPERATOR_NAMESPACE,
  operatorNamespaceFlag,
  outputFlag,
  stringFlag,
  booleanFlag,
  type Command,
} from './command.ts';
import { ExitCode } from './errors.ts';
import { parseOutputFormat, printStructured } from './format.ts';
import { paint } from './io.ts';

export const PLUGIN_VERSION: string = packageJson.version;

const FORMATS = ['table', 'json', 'yaml'] as const;

export const versionCommand: Command = {
  name: 'version',
  usage: 'version [flags]',
  summary: "Print the plugin's version and the operator's, warning when they differ.",
  description: [
    "The operator's version is the app.kubernetes.io/version label of its Deployment (label",
    "app.kubernetes.io/name=coffre) in --operator-namespace. --client prints the plugin's only, without",
    'contacting the cluster. A difference is a warning on stderr, not an error.',
  ].join('\n'),
  flags: {
    context: connectionFlags.context,
    kubeconfig: connectionFlags.kubeconfig,
    ...operatorNamespaceFlag,
    client: { type: 'boolean', description: "Only the plugin's version; no cluster needed." },
    ...outputFlag(FORMATS),
  },
  examples: ['kubectl coffre version', 'kubectl coffre version --client -o json'],
  async run({ io, flags, kube }) {
    const format = parseOutputFormat(stringFlag(flags, 'output'), FORMATS);
    if (booleanFlag(flags, 'client')) {
      if (format === 'table') io.stdout.write(`kubectl-coffre ${PLUGIN_VERSION}\n`);
      else printStructured(io.stdout, format, { plugin: PLUGIN_VERSION });
      return ExitCode.Ok;
    }
    const namespace = stringFlag(flags, 'operator-namespace') ?? DEFAULT_OPERATOR_NAMESPACE;
    const client = await kube();
    const lookup = await client.operatorDeployment(namespace);
    const operator =
      'found' in lookup
        ? (lookup.found.metadata.labels?.['app.kubernetes.io/version'] ?? imageTag(lookup.found))
        : undefined;
    if (format === 'table') {
      io.stdout.write(`kubectl-coffre ${PLUGIN_VERSION}\n`);
      io.stdout.write(
        `operator       ${operator ?? `unknown (${'missing' in lookup ? lookup.missing : 'no version label'})`}\n`,
      );
    } else {
      printStructured(io.stdout, format, {
        plugin: PLUGIN_VERSION,
        operator: operator ?? null,
        ...('missing' in lookup ? { operatorNotFound: lookup.missing } : {}),
      });
    }
    if (operator !== undefined && operator !== PLUGIN_VERSION) {
      io.stderr.write(
        `${paint(io.stderr, 'orange', 'warning')}: the plugin (${PLUGIN_VERSION}) and the operator (${operator}) differ; use the plugin of the operator's release\n`,
      );
    }
    return ExitCode.Ok;
  },
};

function imageTag(deployment: {
  spec?: { template?: { spec?: { containers?: { image?: string }[] } } };
}): string | undefined {
  const image = deployment.spec?.template?.spec?.containers?.[0]?.image;
  const tag = image?.split('@')[0]?.split('/').pop()?.split(':')[1];
  return tag === undefined || tag === '' ? undefined : tag.replace(/^v/, '');
}
