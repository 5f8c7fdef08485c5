import { BlockList, isIP } from 'node:net';

// IANA's special-purpose registries: addresses no public web server has. A client ID metadata
// document is never fetched from one of these unless its host is named in VALET_CIMD_HOSTS.
const IPV4_RANGES: ReadonlyArray<[string, number, string]> = [
  ['0.0.0.0', 8, 'this-network'],
  ['10.0.0.0', 8, 'private'],
  ['100.64.0.0', 10, 'shared (carrier-grade NAT)'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local'],
  ['172.16.0.0', 12, 'private'],
  ['192.0.0.0', 24, 'reserved'],
  ['192.0.2.0', 24, 'documentation'],
  ['192.31.196.0', 24, 'reserved'],
  ['192.52.193.0', 24, 'reserved'],
  ['192.88.99.0', 24, 'reserved'],
  ['192.168.0.0', 16, 'private'],
  ['192.175.48.0', 24, 'reserved'],
  ['198.18.0.0', 15, 'benchmarking'],
  ['198.51.100.0', 24, 'documentation'],
  ['203.0.113.0', 24, 'documentation'],
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved'],
];

// IPv6 is allowed only inside global unicast (2000::/3), less these; that leaves out loopback,
// unspecified, IPv4-mapped, unique-local, link-local and multicast addresses at once.
const IPV6_RANGES: ReadonlyArray<[string, number, string]> = [
  ['2001::', 23, 'reserved (IETF protocol assignments)'],
  ['2001:db8::', 32, 'documentation'],
  ['2002::', 16, '6to4'],
  ['3fff::', 20, 'documentation'],
];

const ranges = [
  ...IPV4_RANGES.map(([net, prefix, kind]) => ({ list: subnet(net, prefix, 'ipv4'), kind })),
  ...IPV6_RANGES.map(([net, prefix, kind]) => ({ list: subnet(net, prefix, 'ipv6'), kind })),
];
const globalUnicast = subnet('2000::', 3, 'ipv6');

function subnet(net: string, prefix: number, type: 'ipv4' | 'ipv6'): BlockList {
  const list = new BlockList();
  list.addSubnet(net, prefix, type);
  return list;
}

/**
 * What kind of non-public address `address` is (`loopback`, `private`, `link-local`, …), or
 * undefined when it is a public unicast address. Anything that is not an IP address at all
 * counts as non-public: the check fails closed.
 */
export function nonPublicKind(address: string): string | undefined {
  const family = isIP(address);
  if (family === 0) return 'unparsable';
  const type = family === 4 ? 'ipv4' : 'ipv6';
  if (type === 'ipv6' && !globalUnicast.check(address, 'ipv6')) return ipv6Kind(address);
  return ranges.find((r) => r.list.check(address, type))?.kind;
}

function ipv6Kind(address: string): string {
  const a = address.toLowerCase();
  if (a === '::1') return 'loopback';
  if (a === '::') return 'unspecified';
  if (a.startsWith('::ffff:')) return 'IPv4-mapped';
  if (/^f[cd]/.test(a)) return 'unique-local (private)';
  if (/^fe[89ab]/.test(a)) return 'link-local';
  if (a.startsWith('ff')) return 'multicast';
  return 'reserved';
}
