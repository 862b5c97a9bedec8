// The CRDs on a real API server: the server itself enforces the schema and the CEL rules.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import {
  CoreV1Api,
  CustomObjectsApi,
  KubernetesObjectApi,
  PatchStrategy,
  type KubernetesObject,
} from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { malformedCases, oauthClient, vaultConnection } from '../../fixtures/malformed.ts';
import {
  clusterKubeConfig,
  clusterKubeconfigPath,
  controlPlaneInfo,
  useTestNamespace,
} from '../../support/cluster.ts';
import { expectApiError } from '../../support/kube-errors.ts';
import { loadSample, sampleFiles } from '../../support/samples.ts';

const run = promisify(execFile);

function objectsApi() {
  return clusterKubeConfig().makeApiClient(KubernetesObjectApi);
}

function inNamespace(object: Record<string, unknown>, namespace: string): KubernetesObject {
  const metadata = (object.metadata ?? {}) as Record<string, unknown>;
  return { ...object, metadata: { ...metadata, namespace } };
}

describe('CRDs on the real API server', () => {
  it('runs a real Kubernetes release', () => {
    const { version } = controlPlaneInfo();
    expect(version.gitVersion).toMatch(/^v1\.(3[4-9]|[4-9]\d)\.\d+$/);
  });

  it.each(sampleFiles())('applies the sample %s, and the server keeps every field of it', async (file) => {
    const namespace = await useTestNamespace('sample');
    const api = objectsApi();
    for (const { object } of loadSample(file)) {
      await api.patch(
        inNamespace(object, namespace),
        undefined,
        undefined,
        'coffre-tests',
        true,
        PatchStrategy.ServerSideApply,
      );
      // Read back: a field the schema does not know would be pruned silently, and the sample would
      // document a setting that does nothing.
      const stored = await api.read<KubernetesObject & Record<string, unknown>>({
        apiVersion: object.apiVersion,
        kind: object.kind,
        metadata: { name: object.metadata.name, namespace },
      });
      if (object.kind === 'Secret') {
        const keys = Object.keys(object.stringData ?? {});
        expect(Object.keys(stored.data ?? {}).sort()).toEqual(keys.sort());
      } else {
        expect(stored.spec, `${object.kind} ${object.metadata.name}`).toEqual(object.spec);
      }
    }
  });

  it.each(malformedCases.map((c) => [c.title, c]))(
    'refuses %s, naming the field',
    async (_title, testCase) => {
      const namespace = await useTestNamespace('malformed');
      const status = await expectApiError(() => objectsApi().create(inNamespace(testCase.object, namespace)));
      expect(status.code).toBe(422);
      expect(status.message).toContain(testCase.field);
    },
  );

  it.each([
    ['a scheme', 'https://acme.eu.auth0.com'],
    ['a path', 'acme.eu.auth0.com/api/v2/'],
  ])(
    'refuses an auth0 domain with %s in a sentence naming spec.auth0.domain, and accepts a port',
    async (_what, domain) => {
      const namespace = await useTestNamespace('auth0-domain');
      const status = await expectApiError(() =>
        objectsApi().create(inNamespace(vaultConnection({ type: 'auth0', auth0: { domain } }), namespace)),
      );
      expect(status.code).toBe(422);
      expect(status.message).toContain(
        'spec.auth0.domain must be a host name such as acme.eu.auth0.com, without a scheme (https://) or a path; a :port is allowed',
      );
      await objectsApi().create(
        inNamespace(
          vaultConnection({ type: 'auth0', auth0: { domain: '127.0.0.1:8443' } }, 'local'),
          namespace,
        ),
      );
    },
  );

  it('refuses a change of an OAuthClient issuer and accepts a change of its clientId', async () => {
    const namespace = await useTestNamespace('immutable');
    const api = objectsApi();
    const created = await api.create(
      inNamespace(
        oauthClient(
          { issuer: 'https://login.example.com/', clientId: 'first', authMethod: 'client_secret_post' },
          'acme',
        ),
        namespace,
      ),
    );
    const issuerChange = await expectApiError(() =>
      api.patch(
        { ...created, spec: { issuer: 'https://evil.example.com/' } } as KubernetesObject,
        undefined,
        undefined,
        undefined,
        undefined,
        PatchStrategy.MergePatch,
      ),
    );
    expect(issuerChange.code).toBe(422);
    expect(issuerChange.message).toContain('spec.issuer');
    expect(issuerChange.message).toContain('issuer is immutable');

    for (const spec of [
      { authMethod: 'client_secret_basic' },
      { tokenEndpoint: 'https://login.example.com/token' },
      { revocationEndpoint: 'https://login.example.com/revoke' },
    ]) {
      const status = await expectApiError(() =>
        api.patch(
          { ...created, spec } as KubernetesObject,
          undefined,
          undefined,
          undefined,
          undefined,
          PatchStrategy.MergePatch,
        ),
      );
      expect(status.message).toContain(`spec.${Object.keys(spec)[0] ?? ''}`);
    }

    const renamed = await api.patch(
      { ...created, spec: { clientId: 'second', clientSecretRef: { name: 'acme' } } } as KubernetesObject,
      undefined,
      undefined,
      undefined,
      undefined,
      PatchStrategy.MergePatch,
    );
    expect((renamed as { spec: { clientId: string } }).spec.clientId).toBe('second');
  });

  it('shows TYPE, READY, STATUS, EXPIRES and AGE in kubectl get vc', async () => {
    const namespace = await useTestNamespace('columns');
    const api = objectsApi();
    const created = await api.create(
      inNamespace(
        vaultConnection({ type: 'auth0', auth0: { domain: 'acme.eu.auth0.com' } }, 'columns'),
        namespace,
      ),
    );
    await clusterKubeConfig()
      .makeApiClient(CustomObjectsApi)
      .replaceNamespacedCustomObjectStatus({
        group: 'coffre.dev',
        version: 'v1alpha1',
        plural: 'vaultconnections',
        namespace,
        name: 'columns',
        body: {
          ...created,
          status: {
            expiresAt: '2026-11-22T12:00:00Z',
            conditions: [
              {
                type: 'Ready',
                status: 'True',
                reason: 'TokenValid',
                message: 'token valid',
                lastTransitionTime: '2026-11-22T11:00:00Z',
              },
            ],
          },
        },
      });
    const { stdout } = await run('kubectl', [
      '--kubeconfig',
      clusterKubeconfigPath(),
      '-n',
      namespace,
      'get',
      'vc',
    ]);
    const [header, row] = stdout.trim().split('\n');
    expect(header?.split(/\s+/)).toEqual(['NAME', 'TYPE', 'READY', 'STATUS', 'EXPIRES', 'AGE']);
    expect(row?.split(/\s+/).slice(0, 5)).toEqual([
      'columns',
      'auth0',
      'True',
      'TokenValid',
      '2026-11-22T12:00:00Z',
    ]);
    const { stdout: categories } = await run('kubectl', [
      '--kubeconfig',
      clusterKubeconfigPath(),
      '-n',
      namespace,
      'get',
      'coffre',
    ]);
    expect(categories).toContain('vaultconnection.coffre.dev/columns');
  });

  it('lets the garbage collector delete a Secret whose owner is deleted', async () => {
    const namespace = await useTestNamespace('gc');
    const api = objectsApi();
    const core = clusterKubeConfig().makeApiClient(CoreV1Api);
    const owner = await api.create(inNamespace(vaultConnection({ type: 'apiKey' }, 'owner'), namespace));
    await core.createNamespacedSecret({
      namespace,
      body: {
        metadata: {
          name: 'owned',
          ownerReferences: [
            {
              apiVersion: 'coffre.dev/v1alpha1',
              kind: 'VaultConnection',
              name: 'owner',
              uid: owner.metadata?.uid ?? '',
              controller: true,
              blockOwnerDeletion: true,
            },
          ],
        },
        stringData: { api_key: 'x' },
      },
    });
    await api.delete(owner);
    await expect
      .poll(
        async () =>
          core.readNamespacedSecret({ namespace, name: 'owned' }).then(
            () => 'present',
            () => 'gone',
          ),
        {
          timeout: 30_000,
          interval: 250,
        },
      )
      .toBe('gone');
  });
});
