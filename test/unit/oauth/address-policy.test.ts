import { describe, expect, it } from 'vitest';
import { createAddressPolicy, InvalidCidrError, parseCidr } from '../../../src/oauth/address-policy.ts';

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
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['fc00::1', 'unique-local'],
    ['fd12:3456::1', 'unique-local'],
    ['100.64.0.1', 'shared'],
    ['100.127.255.254', 'shared'],
    ['0.0.0.0', 'unspecified'],
    ['::', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['ff02::1', 'multicast'],
    ['255.255.255.255', 'reserved'],
    ['169.254.169.254', 'cloud-metadata'],
    ['fd00:ec2::254', 'cloud-metadata'],
    ['100.100.100.200', 'cloud-metadata'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:169.254.169.254', 'cloud-metadata'],
    ['::ffff:10.0.0.1', 'private'],
    ['64:ff9b::10.0.0.1', 'private'],
    ['2002:a00:1::', 'private'],
    ['not-an-ip', 'reserved'],
    ['8.8.8.8', undefined],
    ['172.32.0.1', undefined],
    ['100.128.0.1', undefined],
    ['2606:4700::1111', undefined],
    ['::ffff:8.8.8.8', undefined],
    ['64:ff9b::8.8.8.8', undefined],
  ])('classifies %s as %s', (address, expected) => {
    expect(policy.refusedClass(address)).toBe(expected);
  });
});

describe('an allowlist', () => {
  it('opens the ranges it names and nothing else', () => {
    const policy = createAddressPolicy(['127.0.0.1/32', '10.20.0.0/16', 'fd12::/16']);
    expect(policy.refusedClass('127.0.0.1')).toBeUndefined();
    expect(policy.refusedClass('::ffff:127.0.0.1')).toBeUndefined();
    expect(policy.refusedClass('127.0.0.2')).toBe('loopback');
    expect(policy.refusedClass('10.20.5.5')).toBeUndefined();
    expect(policy.refusedClass('10.21.0.1')).toBe('private');
    expect(policy.refusedClass('fd12::5')).toBeUndefined();
    expect(policy.refusedClass('::1')).toBe('loopback');
  });

  it('keeps cloud metadata refused inside a broader allowed range', () => {
    const policy = createAddressPolicy(['169.254.0.0/16', 'fd00::/8', '100.64.0.0/10']);
    expect(policy.refusedClass('169.254.1.1')).toBeUndefined();
    expect(policy.refusedClass('169.254.169.254')).toBe('cloud-metadata');
    expect(policy.refusedClass('fd00:ec2::254')).toBe('cloud-metadata');
    expect(policy.refusedClass('100.100.100.200')).toBe('cloud-metadata');
  });

  it('opens a metadata address only when named exactly', () => {
    const policy = createAddressPolicy(['169.254.169.254/32', 'fd00:ec2:0::254']);
    expect(policy.refusedClass('169.254.169.254')).toBeUndefined();
    expect(policy.refusedClass('fd00:ec2::254')).toBeUndefined();
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
