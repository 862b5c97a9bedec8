// Records the terminal session of docs/kubectl-coffre.md from a real run: `npm run dev` (a local
// control plane, OAuth server and operator with the demo connections), then kubectl-coffre commands
// under a pseudo-terminal (util-linux `script`), through kubectl's plugin mechanism when kubectl is on
// PATH. Writes docs/kubectl-coffre.cast (asciinema v2, colours included) and the plain text
// docs/kubectl-coffre-session.txt. Refuses to write anything if a secret value shows up in the output.
//
//   node scripts/cli/record-session.ts
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { createKubeHttp } from '../../src/controller/kube-http.ts';
import { DEMO_CLIENT_SECRET, DEMO_NAMESPACE } from '../../tools/dev/demo.ts';

const root = resolve(import.meta.dirname, '../..');
const WIDTH = 112;
const HEIGHT = 32;
const MAX_IDLE_S = 1.2;
const hasKubectl = spawnSync('kubectl', ['version', '--client'], { stdio: 'ignore' }).status === 0;
const weatherKey = `wk-${randomBytes(10).toString('hex')}`;

interface Scene {
  command: string;
  answers?: { when: string; send: string }[];
}

const scenes: Scene[] = [
  { command: `kubectl coffre status -n ${DEMO_NAMESPACE}` },
  { command: `kubectl coffre describe auth0-management -n ${DEMO_NAMESPACE}` },
  { command: `kubectl coffre check crm -n ${DEMO_NAMESPACE}` },
  { command: `kubectl coffre renew auth0-management -n ${DEMO_NAMESPACE}` },
  {
    command: `kubectl coffre create apiKey weather -n ${DEMO_NAMESPACE}`,
    answers: [{ when: 'apiKey (input hidden): ', send: `${weatherKey}\r` }],
  },
  { command: `kubectl coffre status -n ${DEMO_NAMESPACE}` },
  { command: 'kubectl coffre version --client' },
];

const events: [number, 'o', string][] = [];
let clock = 0;
const emit = (text: string, delay = 0) => {
  clock += delay;
  events.push([Number(clock.toFixed(3)), 'o', text]);
};

function startDev(): Promise<{ kubeconfig: string; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, ['tools/dev/main.ts', '--plain', '--token-ttl', '600'], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolvePromise, reject) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /^KUBECONFIG=(\S+)$/m.exec(out);
      if (match?.[1] !== undefined) {
        resolvePromise({
          kubeconfig: match[1],
          stop: () =>
            new Promise((done) => {
              child.once('exit', () => {
                done();
              });
              child.kill('SIGINT');
            }),
        });
      }
    });
    child.once('exit', (code) => {
      reject(new Error(`npm run dev exited (${String(code)}):\n${out}`));
    });
  });
}

function runScene(scene: Scene, env: NodeJS.ProcessEnv): Promise<string> {
  const argv = scene.command.split(' ');
  const real = hasKubectl ? argv : [resolve(root, 'bin/kubectl-coffre'), ...argv.slice(2)];
  const child = spawn(
    'script',
    ['-q', '-e', '-c', `stty cols ${WIDTH} rows ${HEIGHT}; ${real.join(' ')}`, '/dev/null'],
    {
      env,
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  let last = Date.now();
  let seen = '';
  let all = '';
  const answers = [...(scene.answers ?? [])];
  child.stdout.on('data', (chunk: Buffer) => {
    const text = chunk.toString();
    const now = Date.now();
    emit(text, Math.min((now - last) / 1000, MAX_IDLE_S));
    last = now;
    seen += text;
    all += text;
    const next = answers[0];
    if (next !== undefined && seen.includes(next.when)) {
      answers.shift();
      seen = '';
      setTimeout(() => child.stdin.write(next.send), 600);
    }
  });
  return new Promise((resolvePromise) => {
    child.once('close', () => {
      resolvePromise(all);
    });
  });
}

const dev = await startDev();
try {
  const env = {
    ...process.env,
    KUBECONFIG: dev.kubeconfig,
    TERM: 'xterm-256color',
    PATH: `${resolve(root, 'bin')}:${dirname(process.execPath)}:${process.env.PATH ?? ''}`,
  };
  // Wait until the demo token connection is Ready, as a user would before looking.
  const http = createKubeHttp(
    (() => {
      const kc = new KubeConfig();
      kc.loadFromFile(dev.kubeconfig);
      return kc;
    })(),
  );
  for (let i = 0; ; i++) {
    const vc = await http
      .json<{ status?: { conditions?: { type: string; status: string }[] } }>(
        `/apis/coffre.dev/v1alpha1/namespaces/${DEMO_NAMESPACE}/vaultconnections/auth0-management`,
      )
      .catch(() => undefined);
    if (vc?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true) break;
    if (i > 300) throw new Error('the demo connection did not become Ready');
    await new Promise((r) => setTimeout(r, 200));
  }
  await new Promise((r) => setTimeout(r, 3000));
  let plain = '';
  for (const scene of scenes) {
    emit('$ ', 0.8);
    for (const char of scene.command) emit(char, 0.03);
    emit('\r\n', 0.4);
    const output = await runScene(scene, env);
    plain += `$ ${scene.command}\n${output}`;
  }
  emit('$ ', 0.8);
  // Nothing secret may be in the record: the demo client secret, the tokens, the key typed at the prompt.
  const tokenSecret = await http.json<{ data?: Record<string, string> }>(
    `/api/v1/namespaces/${DEMO_NAMESPACE}/secrets/auth0-management-token`,
  );
  const token = Buffer.from(tokenSecret.data?.access_token ?? '', 'base64').toString('utf8');
  const record = events.map((e) => e[2]).join('');
  for (const secret of [DEMO_CLIENT_SECRET, weatherKey, token]) {
    if (secret.length < 8 || record.includes(secret)) throw new Error('a secret value is in the recording');
  }
  await http.close();
  const header = {
    version: 2,
    width: WIDTH,
    height: HEIGHT,
    env: { TERM: 'xterm-256color', SHELL: '/bin/bash' },
  };
  await writeFile(
    resolve(root, 'docs/kubectl-coffre.cast'),
    [JSON.stringify(header), ...events.map((e) => JSON.stringify(e))].join('\n') + '\n',
  );
  const text = plain
    // eslint-disable-next-line no-control-regex
    .replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '')
    .replace(/\r\n/g, '\n')
    .replace(/\r/g, '');
  await writeFile(resolve(root, 'docs/kubectl-coffre-session.txt'), text);
  console.log(`wrote docs/kubectl-coffre.cast (${events.length} events) and docs/kubectl-coffre-session.txt`);
} finally {
  await dev.stop();
}
