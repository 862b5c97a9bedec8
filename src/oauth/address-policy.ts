// Which IP addresses the engine may connect to. Inside a cluster a user-supplied issuer is an SSRF
// risk: the cloud metadata service, the API server, node-local and pod/service networks are all a
// hostname away. Everything that is not a public unicast address is refused, unless an operator opens
// a range with the allowlist. Pure: no I/O, decisions only.
import { BlockList, isIP } from 'node:net';

export type AddressClass =
  | 'cloud-metadata'
  | 'loopback'
  | 'private'
  | 'link-local'
  | 'unique-local'
  | 'shared'
  | 'unspecified'
  | 'multicast'
  | 'reserved';

const CLASS_DESCRIPTIONS: Record<AddressClass, string> = {
  'cloud-metadata': 'a cloud metadata address',
  loopback: 'a loopback address',
  private: 'a private address',
  'link-local': 'a link-local address',
  'unique-local': 'a unique-local address',
  shared: 'a shared (carrier-grade NAT) address',
  unspecified: 'an unspecified address',
  multicast: 'a multicast address',
  reserved: 'a reserved address',
};

export function describeAddressClass(addressClass: AddressClass): string {
  return CLASS_DESCRIPTIONS[addressClass];
}

/** Instance metadata services: AWS/GCP/Azure/OpenStack, AWS over IPv6, Alibaba Cloud. */
export const CLOUD_METADATA_ADDRESSES: readonly string[] = [
  '169.254.169.254',
  'fd00:ec2::254',
  '100.100.100.200',
];

type Family = 'ipv4' | 'ipv6';
type Range = readonly [network: string, prefix: number, family: Family];

/** Refused ranges by class, most specific class first. */
const REFUSED_RANGES: readonly (readonly [AddressClass, readonly Range[]])[] = [
  [
    'loopback',
    [
      ['127.0.0.0', 8, 'ipv4'],
      ['::1', 128, 'ipv6'],
    ],
  ],
  [
    'unspecified',
    [
      ['0.0.0.0', 8, 'ipv4'],
      ['::', 128, 'ipv6'],
    ],
  ],
  [
    'private',
    [
      ['10.0.0.0', 8, 'ipv4'],
      ['172.16.0.0', 12, 'ipv4'],
      ['192.168.0.0', 16, 'ipv4'],
    ],
  ],
  [
    'link-local',
    [
      ['169.254.0.0', 16, 'ipv4'],
      ['fe80::', 10, 'ipv6'],
    ],
  ],
  ['unique-local', [['fc00::', 7, 'ipv6']]],
  ['shared', [['100.64.0.0', 10, 'ipv4']]],
  [
    'multicast',
    [
      ['224.0.0.0', 4, 'ipv4'],
      ['ff00::', 8, 'ipv6'],
    ],
  ],
  [
    'reserved',
    [
      ['192.0.0.0', 24, 'ipv4'], // IETF protocol assignments
      ['192.0.2.0', 24, 'ipv4'], // documentation
      ['198.18.0.0', 15, 'ipv4'], // benchmarking
      ['198.51.100.0', 24, 'ipv4'], // documentation
      ['203.0.113.0', 24, 'ipv4'], // documentation
      ['240.0.0.0', 4, 'ipv4'], // reserved, and the broadcast address
      ['::', 96, 'ipv6'], // IPv4-compatible (deprecated)
      ['64:ff9b:1::', 48, 'ipv6'], // local-use NAT64
      ['100::', 64, 'ipv6'], // discard-only
      ['2001:db8::', 32, 'ipv6'], // documentation
    ],
  ],
];

export interface AddressPolicy {
  /** The class that refuses this IP address, or undefined when a connection may be made. */
  refusedClass(address: string): AddressClass | undefined;
}

export class InvalidCidrError extends Error {
  readonly entry: string;
  constructor(entry: string) {
    super(`allowedCIDRs entry "${entry}" is not an IP address or CIDR range`);
    this.name = 'InvalidCidrError';
    this.entry = entry;
  }
}

/**
 * A policy that refuses every non-public address except those inside `allowedCIDRs` (e.g.
 * `127.0.0.1/32`, `10.20.0.0/16`, `fd12::/64`). Cloud metadata addresses stay refused even inside an
 * allowed range; only an entry naming exactly that address (`169.254.169.254/32`) opens one.
 */
export function createAddressPolicy(allowedCIDRs: readonly string[] = []): AddressPolicy {
  const allowed = new BlockList();
  const explicitlyAllowed = new Set<string>();
  for (const entry of allowedCIDRs) {
    const parsed = parseCidr(entry);
    allowed.addSubnet(parsed.network, parsed.prefix, parsed.family);
    if (parsed.prefix === (parsed.family === 'ipv4' ? 32 : 128)) {
      explicitlyAllowed.add(canonicalAddress(parsed.network));
    }
  }
  const refused = REFUSED_RANGES.map(([addressClass, ranges]) => {
    const list = new BlockList();
    for (const [network, prefix, family] of ranges) list.addSubnet(network, prefix, family);
    return [addressClass, list] as const;
  });
  const metadata = new Set(CLOUD_METADATA_ADDRESSES.map(canonicalAddress));

  return {
    refusedClass(input) {
      const address = embeddedIPv4(stripDecorations(input));
      const family = familyOf(address);
      if (family === undefined) return 'reserved';
      const canonical = canonicalAddress(address);
      if (metadata.has(canonical)) return explicitlyAllowed.has(canonical) ? undefined : 'cloud-metadata';
      if (allowed.check(address, family)) return undefined;
      for (const [addressClass, list] of refused) {
        if (list.check(address, family)) return addressClass;
      }
      return undefined;
    },
  };
}

export function parseCidr(entry: string): { network: string; prefix: number; family: Family } {
  const [rawAddress = '', rawPrefix, ...rest] = entry.trim().split('/');
  const address = stripDecorations(rawAddress);
  const family = familyOf(address);
  if (family === undefined || rest.length > 0) throw new InvalidCidrError(entry);
  const max = family === 'ipv4' ? 32 : 128;
  if (rawPrefix === undefined) return { network: address, prefix: max, family };
  if (!/^\d{1,3}$/.test(rawPrefix) || Number(rawPrefix) > max) throw new InvalidCidrError(entry);
  return { network: address, prefix: Number(rawPrefix), family };
}

/** An IP literal as a URL hostname or socket address may spell it: brackets and a zone id removed. */
export function stripDecorations(address: string): string {
  const unbracketed = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  const zone = unbracketed.indexOf('%');
  return zone === -1 ? unbracketed : unbracketed.slice(0, zone);
}

export function isIpLiteral(hostname: string): boolean {
  return isIP(stripDecorations(hostname)) !== 0;
}

function familyOf(address: string): Family | undefined {
  const version = isIP(address);
  if (version === 4) return 'ipv4';
  if (version === 6) return 'ipv6';
  return undefined;
}

/**
 * IPv6 forms that carry an IPv4 address to a v4 host (IPv4-mapped ::ffff:0:0/96, NAT64 64:ff9b::/96,
 * 6to4 2002::/16) are judged by the IPv4 address they reach.
 */
function embeddedIPv4(address: string): string {
  if (isIP(address) !== 6) return address;
  const words = ipv6Words(address);
  if (words === undefined) return address;
  const v4 = (high: number, low: number) => `${high >> 8}.${high & 0xff}.${low >> 8}.${low & 0xff}`;
  const [w0, w1, w2, w3, w4, w5, w6, w7] = words as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (w0 === 0 && w1 === 0 && w2 === 0 && w3 === 0 && w4 === 0 && w5 === 0xffff) return v4(w6, w7);
  if (w0 === 0x64 && w1 === 0xff9b && w2 === 0 && w3 === 0 && w4 === 0 && w5 === 0) return v4(w6, w7);
  if (w0 === 0x2002) return v4(w1, w2);
  return address;
}

/** The eight 16-bit words of an IPv6 address (input already validated by isIP). */
function ipv6Words(address: string): number[] | undefined {
  let text = address.toLowerCase();
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const headWords = head === '' ? [] : head.split(':');
  const tailWords = tail === undefined || tail === '' ? [] : tail.split(':');
  const missing = 8 - headWords.length - tailWords.length;
  if (missing < 0 || (tail === undefined && missing !== 0)) return undefined;
  return [...headWords, ...Array<string>(missing).fill('0'), ...tailWords].map((word) => parseInt(word, 16));
}

function canonicalAddress(address: string): string {
  if (isIP(address) !== 6) return address;
  const words = ipv6Words(address);
  return words === undefined ? address : words.map((word) => word.toString(16)).join(':');
}
