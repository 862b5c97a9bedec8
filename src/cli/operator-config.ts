// The operator's configuration as the cluster runs it: the args and literal env of the `operator`
// container of its Deployment, parsed by the operator's own loadConfig (one parser for flags, so the
// CLI reads the SSRF allowlist exactly as the operator does), and the extra CA it mounts from a
// ConfigMap. Falls back to the defaults, saying why, when the Deployment cannot be read.
import { loadConfig, type Config } from '../config.ts';
import type { CliKube, DeploymentLike } from './kube.ts';

export interface OperatorConfig {
  config: Config;
  /** Where the configuration came from, for the report. */
  source: string;
  /** The PEM of the operator's extra CAs (--ca-file), when mounted from a ConfigMap the caller may read. */
  caPem?: string;
  /** Why the CA could not be read, when --ca-file is set. */
  caNote?: string;
  /** The operator's version: the Deployment's app.kubernetes.io/version label. */
  version?: string;
}

export async function readOperatorConfig(client: CliKube, namespace: string): Promise<OperatorConfig> {
  const lookup = await client.operatorDeployment(namespace);
  if ('missing' in lookup) {
    return { config: loadConfig([], {}), source: `defaults (${lookup.missing})` };
  }
  const deployment = lookup.found;
  const container = operatorContainer(deployment);
  const env = Object.fromEntries(
    (container?.env ?? []).flatMap((e) => (e.value === undefined ? [] : [[e.name, e.value] as const])),
  );
  const where = `Deployment ${namespace}/${deployment.metadata.name}`;
  const version = deployment.metadata.labels?.['app.kubernetes.io/version'];
  let config: Config;
  try {
    config = loadConfig(container?.args ?? [], env);
  } catch (error) {
    return {
      config: loadConfig([], {}),
      source: `defaults (cannot parse the args of ${where}: ${error instanceof Error ? error.message : String(error)})`,
      ...(version === undefined ? {} : { version }),
    };
  }
  const result: OperatorConfig = { config, source: where, ...(version === undefined ? {} : { version }) };
  if (config.egress.caFile !== '') {
    const mounted = configMapOf(deployment, config.egress.caFile);
    if (mounted === undefined)
      result.caNote = `--ca-file=${config.egress.caFile} is not mounted from a ConfigMap`;
    else {
      const pem = await client.configMapValue(namespace, mounted.name, mounted.key);
      if (pem === undefined)
        result.caNote = `cannot read ConfigMap ${namespace}/${mounted.name} key ${mounted.key}`;
      else result.caPem = pem;
    }
  }
  return result;
}

function operatorContainer(deployment: DeploymentLike) {
  const containers = deployment.spec?.template?.spec?.containers ?? [];
  return containers.find((c) => c.name === 'operator') ?? containers[0];
}

/** The ConfigMap and key a file path of the operator container comes from. */
function configMapOf(deployment: DeploymentLike, file: string): { name: string; key: string } | undefined {
  const container = operatorContainer(deployment);
  for (const mount of container?.volumeMounts ?? []) {
    const prefix = mount.mountPath.replace(/\/+$/, '') + '/';
    if (!file.startsWith(prefix)) continue;
    const volume = deployment.spec?.template?.spec?.volumes?.find((v) => v.name === mount.name);
    if (volume?.configMap === undefined) continue;
    const relative = file.slice(prefix.length);
    const item = volume.configMap.items?.find((i) => i.path === relative);
    return { name: volume.configMap.name, key: item?.key ?? relative };
  }
  return undefined;
}
