import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  CLOUD_METADATA_ADDRESSES,
  createAddressPolicy,
  describeRefusal,
  InvalidCidrError,
  parseCidr,
  REFUSED_RANGES,
  type RefusedRange,
} from '../../../src/oauth/address-policy.ts';

function row(cidr: string): RefusedRange {
  const found = REFUSED_RANGES.find((range) => range.cidr === cidr);
  if (found === undefined) throw new Error(`no row ${cidr}`);
  return found;
}

/** Every metadata and credential endpoint, with the forms that reach it, and the row that refuses it. */
const METADATA_FORMS: readonly (readonly [form: string, endpoint: string])[] = [
  ['169.254.169.254', '169.254.169.254'],
  ['fd00:ec2::254', 'fd00:ec2::254'],
  ['[FD00:EC2:0:0:0:0:0:254]', 'fd00:ec2::254'],
  ['169.254.170.2', '169.254.170.2'],
  ['169.254.170.23', '169.254.170.23'],
  ['fd00:ec2::23', 'fd00:ec2::23'],
  ['fd20:ce::254', 'fd20:ce::254'],
  ['168.63.129.16', '168.63.129.16'],
  ['100.100.100.200', '100.100.100.200'],
  ['169.254.0.23', '169.254.0.23'],
  ['192.0.0.192', '192.0.0.192'],
  ['::ffff:169.254.170.2', '169.254.170.2'], // IPv4-mapped
  ['::ffff:a9fe:aa17', '169.254.170.23'], // IPv4-mapped, hex
  ['::ffff:0:169.254.170.2', '169.254.170.2'], // IPv4-translated (RFC 2765)
  ['::ffff:0:6464:64c8', '100.100.100.200'], // IPv4-translated, hex
  ['64:ff9b::168.63.129.16', '168.63.129.16'], // NAT64 well-known prefix
  ['64:ff9b::a9fe:a9fe', '169.254.169.254'],
  ['64:ff9b:1::a9fe:aa02', '169.254.170.2'], // local-use NAT64, /96 position
  ['64:ff9b:1:a9fe:aa:200::', '169.254.170.2'], // local-use NAT64, /48 position
  ['2002:a9fe:aa02::', '169.254.170.2'], // 6to4
  ['2002:6464:64c8:1::1', '100.100.100.200'],
  ['::169.254.169.254', '169.254.169.254'], // IPv4-compatible
  ['2001:0:a9fe:a9fe::1', '169.254.169.254'], // Teredo server
  ['2001:0:4136:e378:8000:63bf:5601:5601', '169.254.169.254'], // Teredo client (inverted)
];

describe('the default address policy', () => {
  const policy = createAddressPolicy();

  it.each<[string, string | undefined]>([
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['::1', 'loopback'],
    ['[::1]', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.10.10', 'link-local'],
    ['169.254.170.3', 'link-local'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['fec0::1', 'site-local'],
    ['feff:ffff::1', 'site-local'],
    ['fc00::1', 'unique-local'],
    ['fd12:3456::1', 'unique-local'],
    ['fd00:ec2::253', 'unique-local'],
    ['100.64.0.1', 'shared'],
    ['100.127.255.254', 'shared'],
    ['0.0.0.0', 'unspecified'],
    ['::', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['ff02::1', 'multicast'],
    ['255.255.255.255', 'reserved'],
    ['192.0.0.8', 'reserved'],
    ['2001:db8::1', 'reserved'],
    ['3fff::1', 'reserved'],
    ['2001:2::1', 'reserved'],
    ['2001:20::1', 'reserved'],
    ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'tunnel'], // Teredo, whatever it embeds
    ['192.88.99.1', 'tunnel'], // 6to4 relay anycast
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:10.0.0.1', 'private'],
    ['::ffff:0:127.0.0.1', 'loopback'],
    ['::ffff:0:10.0.0.1', 'private'],
    ['::ffff:0:a9fe:101', 'link-local'],
    ['64:ff9b::10.0.0.1', 'private'],
    ['64:ff9b::127.0.0.1', 'loopback'],
    ['64:ff9b::169.254.1.1', 'link-local'],
    ['64:ff9b:1::8.8.8.8', 'reserved'], // local-use NAT64: the IPv4 position is the site's choice
    ['::10.0.0.1', 'reserved'], // IPv4-compatible, deprecated
    ['::8.8.8.8', 'reserved'],
    ['2002:a00:1::', 'private'],
    ['2002:7f00:1::', 'loopback'],
    ['2002:a9fe:101::', 'link-local'],
    ['not-an-ip', 'reserved'],
    ['8.8.8.8', undefined],
    ['168.63.129.17', undefined],
    ['172.32.0.1', undefined],
    ['100.128.0.1', undefined],
    ['2606:4700::1111', undefined],
    ['2001:4860:4860::8888', undefined],
    ['::ffff:8.8.8.8', undefined],
    ['::ffff:0:8.8.8.8', undefined],
    ['64:ff9b::8.8.8.8', undefined],
    ['2002:808:808::1', undefined],
  ])('classifies %s as %s', (address, expected) => {
    expect(policy.refusal(address)?.class).toBe(expected);
  });

  it.each(METADATA_FORMS)('refuses %s as the metadata endpoint %s', (form, endpoint) => {
    expect(policy.refusal(form)).toBe(row(endpoint));
  });
});

describe('an allowlist', () => {
  it('opens the ranges it names and nothing else', () => {
    const policy = createAddressPolicy(['127.0.0.1/32', '10.20.0.0/16', 'fd12::/16']);
    expect(policy.refusal('127.0.0.1')).toBeUndefined();
    expect(policy.refusal('::ffff:127.0.0.1')).toBeUndefined();
    expect(policy.refusal('127.0.0.2')?.class).toBe('loopback');
    expect(policy.refusal('10.20.5.5')).toBeUndefined();
    expect(policy.refusal('10.21.0.1')?.class).toBe('private');
    expect(policy.refusal('fd12::5')).toBeUndefined();
    expect(policy.refusal('::1')?.class).toBe('loopback');
  });

  const wide: Record<string, readonly string[]> = {
    'the ranges around them': [
      '169.254.0.0/16',
      '100.64.0.0/10',
      '100.100.0.0/16',
      '168.63.0.0/16',
      '192.0.0.0/24',
      'fd00::/8',
      'fc00::/7',
      '::ffff:0:0/96',
      '::ffff:0:0:0/96',
      '64:ff9b::/96',
      '64:ff9b:1::/48',
      '2002::/16',
      '2001::/32',
      '::/96',
    ],
    everything: ['0.0.0.0/0', '::/0'],
  };

  describe.each(Object.entries(wide))('keeps metadata refused when %s are allowed', (_name, cidrs) => {
    const policy = createAddressPolicy(cidrs);

    it.each(METADATA_FORMS)('still refuses %s (%s)', (form, endpoint) => {
      expect(policy.refusal(form)).toBe(row(endpoint));
    });

    it('opens the rest of the range', () => {
      expect(policy.refusal('169.254.1.1')).toBeUndefined();
      expect(policy.refusal('169.254.170.3')).toBeUndefined();
      expect(policy.refusal('fd00:ec2::253')).toBeUndefined();
      expect(policy.refusal('100.100.100.201')).toBeUndefined();
    });
  });

  it.each(CLOUD_METADATA_ADDRESSES)('opens %s only when an entry names it exactly', (address) => {
    const max = address.includes(':') ? 128 : 32;
    expect(createAddressPolicy([`${address}/${max}`]).refusal(address)).toBeUndefined();
    expect(createAddressPolicy([address]).refusal(address)).toBeUndefined();
    expect(createAddressPolicy([`[${address}]`]).refusal(address)).toBeUndefined();
    const others = CLOUD_METADATA_ADDRESSES.filter((other) => other !== address);
    const policy = createAddressPolicy([address, '0.0.0.0/0', '::/0']);
    for (const other of others) expect(policy.refusal(other)).toBe(row(other));
  });

  it('reads an exact entry in another spelling as the same address', () => {
    const policy = createAddressPolicy(['fd00:ec2:0::254', 'FD00:0EC2::23/128']);
    expect(policy.refusal('fd00:ec2::254')).toBeUndefined();
    expect(policy.refusal('fd00:ec2::23')).toBeUndefined();
  });

  it('opens the IPv4 forms of an exactly named endpoint, as the IPv4 address they reach', () => {
    const policy = createAddressPolicy(['169.254.170.2/32']);
    expect(policy.refusal('::ffff:169.254.170.2')).toBeUndefined();
    expect(policy.refusal('64:ff9b::169.254.170.2')).toBeUndefined();
    expect(policy.refusal('2002:a9fe:aa02::')).toBeUndefined();
    expect(policy.refusal('::169.254.170.2')?.class).toBe('reserved');
  });

  it.each(['10.0.0.0/33', 'example.com/8', '10.0.0.0/8/1', '::1/129', '', '10.0.0.0/x'])(
    'rejects the malformed entry "%s"',
    (entry) => {
      expect(() => createAddressPolicy([entry])).toThrow(InvalidCidrError);
    },
  );

  it('reads a bare address as a single host', () => {
    expect(parseCidr('10.0.0.1')).toEqual({ network: '10.0.0.1', prefix: 32, family: 'ipv4' });
    expect(parseCidr('[::1]/128')).toEqual({ network: '::1', prefix: 128, family: 'ipv6' });
  });
});

describe('the table of refused ranges', () => {
  it.each(REFUSED_RANGES)('has a valid range and a reason for $cidr', (range) => {
    const parsed = parseCidr(range.cidr);
    if (range.class === 'cloud-metadata') expect(parsed.prefix).toBe(parsed.family === 'ipv4' ? 32 : 128);
    expect(range.reason).not.toBe('');
  });

  it('is the list docs/oauth-engine.md gives', () => {
    const docs = readFileSync(new URL('../../../docs/oauth-engine.md', import.meta.url), 'utf8');
    const section = docs.slice(docs.indexOf('## SSRF guard'), docs.indexOf('## Sharing'));
    for (const range of REFUSED_RANGES) expect(section).toContain(range.cidr);
  });

  it('names the class and the reason in a refusal', () => {
    expect(describeRefusal(row('169.254.170.2'))).toBe(
      'a cloud metadata endpoint (AWS ECS task credentials)',
    );
    expect(describeRefusal(row('10.0.0.0/8'))).toBe('a private address (10.0.0.0/8, RFC 1918)');
  });
});
