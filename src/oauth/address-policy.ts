// Which IP addresses the engine may connect to. Inside a cluster a user-supplied issuer is an SSRF
// risk: the cloud metadata service, the API server, node-local and pod/service networks are all a
// hostname away. Everything that is not a public unicast address is refused, unless an operator opens
// a range with the allowlist. Pure: no I/O, decisions only.
import { BlockList, isIP } from 'node:net';

export type AddressClass =
  | 'cloud-metadata'
  | 'loopback'
  | 'unspecified'
  | 'private'
  | 'link-local'
  | 'site-local'
  | 'unique-local'
  | 'shared'
  | 'multicast'
  | 'tunnel'
  | 'reserved';

const CLASS_LABELS: Record<AddressClass, string> = {
  'cloud-metadata': 'a cloud metadata endpoint',
  loopback: 'a loopback address',
  unspecified: 'an unspecified address',
  private: 'a private address',
  'link-local': 'a link-local address',
  'site-local': 'a site-local address',
  'unique-local': 'a unique-local address',
  shared: 'a shared (carrier-grade NAT) address',
  multicast: 'a multicast address',
  tunnel: 'a tunnel address',
  reserved: 'a reserved address',
};

export interface RefusedRange {
  /** An address or a CIDR range, spelled as an allowlist entry would be. */
  readonly cidr: string;
  readonly class: AddressClass;
  /** Why it is refused: quoted in the refusal message and in docs/oauth-engine.md. */
  readonly reason: string;
}

/**
 * Every address the engine refuses by default, with the reason. `cloud-metadata` rows are single
 * addresses that stay refused inside an allowed range (169.254.0.0/16, 100.64.0.0/10, fd00::/8...):
 * only an allowlist entry naming that exact address opens one. The other rows are opened by any
 * allowlist range covering the address, and are checked in this order (the narrower row first).
 */
export const REFUSED_RANGES: readonly RefusedRange[] = [
  {
    cidr: '169.254.169.254',
    class: 'cloud-metadata',
    reason: 'instance metadata: AWS, GCP, Azure, Oracle, OpenStack, DigitalOcean',
  },
  { cidr: 'fd00:ec2::254', class: 'cloud-metadata', reason: 'AWS instance metadata over IPv6' },
  { cidr: '169.254.170.2', class: 'cloud-metadata', reason: 'AWS ECS task credentials' },
  { cidr: '169.254.170.23', class: 'cloud-metadata', reason: 'AWS EKS Pod Identity credentials' },
  { cidr: 'fd00:ec2::23', class: 'cloud-metadata', reason: 'AWS EKS Pod Identity credentials over IPv6' },
  { cidr: 'fd20:ce::254', class: 'cloud-metadata', reason: 'GCP instance metadata over IPv6' },
  { cidr: '168.63.129.16', class: 'cloud-metadata', reason: 'Azure WireServer' },
  { cidr: '100.100.100.200', class: 'cloud-metadata', reason: 'Alibaba Cloud instance metadata' },
  { cidr: '169.254.0.23', class: 'cloud-metadata', reason: 'Tencent Cloud instance metadata' },
  { cidr: '192.0.0.192', class: 'cloud-metadata', reason: 'Oracle Cloud Classic instance metadata' },
  { cidr: '127.0.0.0/8', class: 'loopback', reason: 'this host, RFC 1122' },
  { cidr: '::1/128', class: 'loopback', reason: 'this host, RFC 4291' },
  { cidr: '0.0.0.0/8', class: 'unspecified', reason: '"this network", RFC 1122; reaches this host' },
  { cidr: '::/128', class: 'unspecified', reason: 'RFC 4291; reaches this host' },
  { cidr: '10.0.0.0/8', class: 'private', reason: 'RFC 1918' },
  { cidr: '172.16.0.0/12', class: 'private', reason: 'RFC 1918' },
  { cidr: '192.168.0.0/16', class: 'private', reason: 'RFC 1918' },
  { cidr: '169.254.0.0/16', class: 'link-local', reason: 'RFC 3927; node-local services' },
  { cidr: 'fe80::/10', class: 'link-local', reason: 'RFC 4291; node-local services' },
  { cidr: 'fec0::/10', class: 'site-local', reason: 'deprecated by RFC 3879, still private where used' },
  { cidr: 'fc00::/7', class: 'unique-local', reason: 'RFC 4193' },
  { cidr: '100.64.0.0/10', class: 'shared', reason: 'RFC 6598' },
  { cidr: '224.0.0.0/4', class: 'multicast', reason: 'RFC 5771' },
  { cidr: 'ff00::/8', class: 'multicast', reason: 'RFC 4291' },
  { cidr: '2001::/32', class: 'tunnel', reason: 'Teredo, RFC 4380: relayed to an IPv4 address' },
  { cidr: '192.88.99.0/24', class: 'tunnel', reason: '6to4 relay anycast, deprecated by RFC 7526' },
  { cidr: '::/96', class: 'reserved', reason: 'IPv4-compatible, deprecated by RFC 4291' },
  {
    cidr: '64:ff9b:1::/48',
    class: 'reserved',
    reason: 'local-use NAT64, RFC 8215: where the IPv4 address sits depends on the site',
  },
  { cidr: '192.0.0.0/24', class: 'reserved', reason: 'IETF protocol assignments, RFC 6890' },
  { cidr: '192.0.2.0/24', class: 'reserved', reason: 'documentation, RFC 5737' },
  { cidr: '198.51.100.0/24', class: 'reserved', reason: 'documentation, RFC 5737' },
  { cidr: '203.0.113.0/24', class: 'reserved', reason: 'documentation, RFC 5737' },
  { cidr: '198.18.0.0/15', class: 'reserved', reason: 'benchmarking, RFC 2544' },
  { cidr: '240.0.0.0/4', class: 'reserved', reason: 'reserved, and the broadcast address, RFC 1112' },
  { cidr: '100::/64', class: 'reserved', reason: 'discard-only, RFC 6666' },
  { cidr: '2001:2::/48', class: 'reserved', reason: 'benchmarking, RFC 5180' },
  { cidr: '2001:10::/28', class: 'reserved', reason: 'ORCHID, deprecated by RFC 7343' },
  { cidr: '2001:20::/28', class: 'reserved', reason: 'ORCHIDv2, RFC 7343' },
  { cidr: '2001:db8::/32', class: 'reserved', reason: 'documentation, RFC 3849' },
  { cidr: '3fff::/20', class: 'reserved', reason: 'documentation, RFC 9637' },
];

/** What refuses a string that is not an IP address at all (e.g. a socket with no remote address). */
export const NOT_AN_ADDRESS: RefusedRange = { cidr: '', class: 'reserved', reason: 'not an IP address' };

/** The cloud metadata and credential endpoints, from the table. */
export const CLOUD_METADATA_ADDRESSES: readonly string[] = REFUSED_RANGES.filter(
  (range) => range.class === 'cloud-metadata',
).map((range) => range.cidr);

/** "a cloud metadata endpoint (AWS ECS task credentials)", "a private address (10.0.0.0/8, RFC 1918)". */
export function describeRefusal(refusal: RefusedRange): string {
  const label = CLASS_LABELS[refusal.class];
  return refusal.class === 'cloud-metadata' || refusal.cidr === ''
    ? `${label} (${refusal.reason})`
    : `${label} (${refusal.cidr}, ${refusal.reason})`;
}

type Family = 'ipv4' | 'ipv6';

export interface AddressPolicy {
  /** The table row that refuses this IP address, or undefined when a connection may be made. */
  refusal(address: string): RefusedRange | undefined;
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
 * A policy that refuses every address in REFUSED_RANGES except those inside `allowedCIDRs` (e.g.
 * `127.0.0.1/32`, `10.20.0.0/16`, `fd12::/64`). Cloud metadata endpoints stay refused even inside an
 * allowed range; only an entry naming exactly that address (`169.254.170.2/32` or `169.254.170.2`)
 * opens one. IPv6 forms that carry an IPv4 address are judged by that address (see reachedIPv4), and
 * no form hiding a metadata address reaches it.
 */
export function createAddressPolicy(allowedCIDRs: readonly string[] = []): AddressPolicy {
  const allowed = new BlockList();
  const namedExactly = new Set<string>();
  for (const entry of allowedCIDRs) {
    const parsed = parseCidr(entry);
    allowed.addSubnet(parsed.network, parsed.prefix, parsed.family);
    if (parsed.prefix === (parsed.family === 'ipv4' ? 32 : 128))
      namedExactly.add(canonicalAddress(parsed.network));
  }
  const metadata = new Map<string, RefusedRange>();
  const ranges: (readonly [RefusedRange, BlockList])[] = [];
  for (const range of REFUSED_RANGES) {
    const parsed = parseCidr(range.cidr);
    if (range.class === 'cloud-metadata') {
      metadata.set(canonicalAddress(parsed.network), range);
    } else {
      const list = new BlockList();
      list.addSubnet(parsed.network, parsed.prefix, parsed.family);
      ranges.push([range, list]);
    }
  }

  return {
    refusal(input) {
      const literal = stripDecorations(input);
      if (familyOf(literal) === undefined) return NOT_AN_ADDRESS;
      const address = reachedIPv4(literal) ?? literal;
      const family = familyOf(address) as Family;
      for (const candidate of [address, ...hiddenIPv4(literal)]) {
        const canonical = canonicalAddress(candidate);
        const endpoint = metadata.get(canonical);
        if (endpoint !== undefined && !namedExactly.has(canonical)) return endpoint;
      }
      if (allowed.check(address, family)) return undefined;
      for (const [range, list] of ranges) {
        if (list.check(address, family)) return range;
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

const dotted = (high: number, low: number) => `${high >> 8}.${high & 0xff}.${low >> 8}.${low & 0xff}`;

/**
 * The IPv4 address an IPv6 form delivers to, where the form fixes its position: IPv4-mapped
 * ::ffff:0:0/96, IPv4-translated ::ffff:0:0:0/96 (RFC 2765), NAT64's well-known prefix 64:ff9b::/96
 * (RFC 6052) and 6to4 2002::/16 (RFC 3056). Such an address is judged as that IPv4 address: the
 * public ones pass (DNS64 in an IPv6-only cluster), 2002:a9fe:a9fe:: is the metadata endpoint.
 */
function reachedIPv4(address: string): string | undefined {
  const words = isIP(address) === 6 ? ipv6Words(address) : undefined;
  if (words === undefined) return undefined;
  const [w0, w1, w2, w3, w4, w5, w6, w7] = words as Words;
  const zeroHead = w0 === 0 && w1 === 0 && w2 === 0 && w3 === 0;
  if (zeroHead && w4 === 0 && w5 === 0xffff) return dotted(w6, w7);
  if (zeroHead && w4 === 0xffff && w5 === 0) return dotted(w6, w7);
  if (w0 === 0x64 && w1 === 0xff9b && w2 === 0 && w3 === 0 && w4 === 0 && w5 === 0) return dotted(w6, w7);
  if (w0 === 0x2002) return dotted(w1, w2);
  return undefined;
}

/**
 * IPv4 addresses an IPv6 form may hide where the table refuses the form as a whole (so only an
 * allowlist could open it): IPv4-compatible ::/96, Teredo's server and (inverted) client, and every
 * RFC 6052 position inside local-use NAT64 64:ff9b:1::/48. Checked against the metadata endpoints
 * only, so that opening such a range never opens one.
 */
function hiddenIPv4(address: string): string[] {
  const words = isIP(address) === 6 ? ipv6Words(address) : undefined;
  if (words === undefined) return [];
  const [w0, w1, w2, w3, w4, w5, w6, w7] = words as Words;
  const bytes = words.flatMap((word) => [word >> 8, word & 0xff]);
  const v4 = (...at: number[]) => at.map((index) => bytes[index]).join('.');
  if (w0 === 0 && w1 === 0 && w2 === 0 && w3 === 0 && w4 === 0 && w5 === 0) return [dotted(w6, w7)];
  if (w0 === 0x2001 && w1 === 0) return [dotted(w2, w3), dotted(~w6 & 0xffff, ~w7 & 0xffff)];
  if (w0 === 0x64 && w1 === 0xff9b && w2 === 1) {
    // Prefix lengths /48, /56, /64 and /96; bits 64-71 (byte 8) are never used.
    return [v4(6, 7, 9, 10), v4(7, 9, 10, 11), v4(9, 10, 11, 12), v4(12, 13, 14, 15)];
  }
  return [];
}

type Words = [number, number, number, number, number, number, number, number];

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
