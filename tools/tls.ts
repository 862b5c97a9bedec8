// Certificates for local servers (the test control plane, local OAuth servers), made with the openssl
// CLI: a CA per run, and leaf certificates it signs. Keys are EC P-256: fast to make, accepted everywhere.
import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface KeyPair {
  certFile: string;
  keyFile: string;
  certPem: string;
  keyPem: string;
}

export interface CertificateAuthority extends KeyPair {
  dir: string;
}

export interface LeafOptions {
  /** File name stem inside the CA's directory. */
  name: string;
  commonName: string;
  /** Subject O= entries (Kubernetes reads them as groups). */
  organizations?: string[];
  dnsNames?: string[];
  ipAddresses?: string[];
  usage: 'server' | 'client';
  days?: number;
}

async function openssl(args: string[]): Promise<void> {
  await run('openssl', args, { timeout: 30_000 });
}

async function loadPair(certFile: string, keyFile: string): Promise<KeyPair> {
  return {
    certFile,
    keyFile,
    certPem: await readFile(certFile, 'utf8'),
    keyPem: await readFile(keyFile, 'utf8'),
  };
}

export async function createCertificateAuthority(
  dir: string,
  commonName: string,
): Promise<CertificateAuthority> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const keyFile = join(dir, 'ca.key');
  const certFile = join(dir, 'ca.crt');
  await openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', keyFile]);
  await openssl([
    'req',
    '-x509',
    '-new',
    '-key',
    keyFile,
    '-sha256',
    '-days',
    '30',
    '-subj',
    `/CN=${commonName}`,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign,digitalSignature',
    '-out',
    certFile,
  ]);
  return { dir, ...(await loadPair(certFile, keyFile)) };
}

export async function issueCertificate(ca: CertificateAuthority, options: LeafOptions): Promise<KeyPair> {
  const keyFile = join(ca.dir, `${options.name}.key`);
  const csrFile = join(ca.dir, `${options.name}.csr`);
  const certFile = join(ca.dir, `${options.name}.crt`);
  const extFile = join(ca.dir, `${options.name}.ext`);
  const subject = [...(options.organizations ?? []).map((o) => `/O=${o}`), `/CN=${options.commonName}`].join(
    '',
  );
  const altNames = [
    ...(options.dnsNames ?? []).map((name) => `DNS:${name}`),
    ...(options.ipAddresses ?? []).map((ip) => `IP:${ip}`),
  ];
  const extensions = [
    'basicConstraints=critical,CA:FALSE',
    'keyUsage=critical,digitalSignature,keyEncipherment',
    `extendedKeyUsage=${options.usage === 'server' ? 'serverAuth' : 'clientAuth'}`,
    ...(altNames.length > 0 ? [`subjectAltName=${altNames.join(',')}`] : []),
  ];
  await writeFile(extFile, `${extensions.join('\n')}\n`);
  await openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', keyFile]);
  await openssl(['req', '-new', '-key', keyFile, '-subj', subject, '-out', csrFile]);
  await openssl([
    'x509',
    '-req',
    '-in',
    csrFile,
    '-CA',
    ca.certFile,
    '-CAkey',
    ca.keyFile,
    '-CAcreateserial',
    '-sha256',
    '-days',
    String(options.days ?? 30),
    '-extfile',
    extFile,
    '-out',
    certFile,
  ]);
  return loadPair(certFile, keyFile);
}
