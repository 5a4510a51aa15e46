import { isIP } from "node:net";

/**
 * Which network addresses a recording URL may reach. The chunker runs inside the deployment's network (a
 * Lambda's, with the instance metadata service at 169.254.169.254 and whatever a VPC holds), so a URL that a
 * user hands in must only ever reach the public internet: an address is public unless it is in one of the
 * ranges below. Pure: the fetcher (url-fetch.ts) applies it to every address a host resolves to, on every hop.
 */

/** Why an address is refused; `undefined` from addressKind means public. */
export type AddressKind =
  | "unspecified"
  | "private"
  | "shared"
  | "loopback"
  | "link-local"
  | "multicast"
  | "reserved"
  | "unique-local"
  | "documentation";

type V4Range = readonly [base: number, prefix: number, kind: AddressKind];

/** RFC 6890 special-purpose IPv4 ranges: none of them is the public internet. */
const V4_RANGES: readonly V4Range[] = [
  [v4("0.0.0.0"), 8, "unspecified"],
  [v4("10.0.0.0"), 8, "private"],
  [v4("100.64.0.0"), 10, "shared"], // carrier-grade NAT (RFC 6598)
  [v4("127.0.0.0"), 8, "loopback"],
  [v4("169.254.0.0"), 16, "link-local"], // includes the instance metadata service, 169.254.169.254
  [v4("172.16.0.0"), 12, "private"],
  [v4("192.0.0.0"), 24, "reserved"], // IETF protocol assignments (and the DS-Lite / NAT64 helpers in it)
  [v4("192.0.2.0"), 24, "documentation"],
  [v4("192.88.99.0"), 24, "reserved"], // 6to4 relay anycast
  [v4("192.168.0.0"), 16, "private"],
  [v4("198.18.0.0"), 15, "reserved"], // benchmarking
  [v4("198.51.100.0"), 24, "documentation"],
  [v4("203.0.113.0"), 24, "documentation"],
  [v4("224.0.0.0"), 4, "multicast"],
  [v4("240.0.0.0"), 4, "reserved"], // and 255.255.255.255, broadcast
];

function v4(text: string): number {
  return text.split(".").reduce((n, part) => n * 256 + Number(part), 0);
}

function v4Kind(value: number): AddressKind | undefined {
  for (const [base, prefix, kind] of V4_RANGES) {
    const size = 2 ** (32 - prefix);
    if (value >= base && value < base + size) return kind;
  }
  return undefined;
}

/** An IPv6 address as 8 groups of 16 bits, or undefined when it is not one (a zone id `%eth0` is dropped). */
export function parseIpv6(text: string): number[] | undefined {
  let address = text.replace(/^\[|\]$/g, "");
  const zone = address.indexOf("%");
  if (zone >= 0) address = address.slice(0, zone);
  if (isIP(address) !== 6) return undefined;
  // A trailing dotted quad (::ffff:10.0.0.5) becomes its two groups.
  const quad = /(\d+\.\d+\.\d+\.\d+)$/.exec(address);
  if (quad) {
    const n = v4(quad[1]);
    address = address.slice(0, quad.index) + `${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`;
  }
  const [head, tail] = address.includes("::") ? address.split("::") : [address, undefined];
  const groups = (part: string | undefined) => (part ? part.split(":").map((g) => parseInt(g, 16)) : []);
  const front = groups(head);
  const back = groups(tail);
  const fill = tail === undefined ? [] : new Array<number>(8 - front.length - back.length).fill(0);
  const all = [...front, ...fill, ...back];
  return all.length === 8 && all.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff) ? all : undefined;
}

function v6Kind(g: number[]): AddressKind | undefined {
  const embedded = (hi: number, lo: number) => v4Kind(((hi << 16) >>> 0) + lo);
  const zeros = (from: number, to: number) => g.slice(from, to).every((x) => x === 0);
  if (zeros(0, 8)) return "unspecified";
  if (zeros(0, 7) && g[7] === 1) return "loopback";
  // IPv4-mapped (::ffff:a.b.c.d): the IPv4 address is what is reached.
  if (zeros(0, 5) && g[5] === 0xffff) return embedded(g[6], g[7]);
  // IPv4-compatible (::a.b.c.d) is deprecated and routes nowhere public.
  if (zeros(0, 6)) return "reserved";
  // NAT64 (64:ff9b::/96, RFC 6052) and its local-use prefix (64:ff9b:1::/48): a gateway reaches the IPv4 inside.
  if (g[0] === 0x64 && g[1] === 0xff9b && zeros(2, 6)) return embedded(g[6], g[7]);
  if (g[0] === 0x64 && g[1] === 0xff9b && g[2] === 1) return "reserved";
  // 6to4 (2002::/16): the IPv4 address of the relay is in the next 32 bits.
  if (g[0] === 0x2002) return embedded(g[1], g[2]);
  if (g[0] === 0x2001 && g[1] === 0x0db8) return "documentation";
  // Teredo (2001::/32) and the other IETF assignments in 2001::/23 tunnel or are not routed.
  if (g[0] === 0x2001 && g[1] < 0x200) return "reserved";
  if ((g[0] & 0xfe00) === 0xfc00) return "unique-local";
  if ((g[0] & 0xffc0) === 0xfe80) return "link-local";
  if ((g[0] & 0xffc0) === 0xfec0) return "reserved"; // site-local, deprecated
  if ((g[0] & 0xff00) === 0xff00) return "multicast";
  // Only global unicast (2000::/3) is the public internet; the rest is unassigned or special (100::/64 discard).
  if ((g[0] & 0xe000) !== 0x2000) return "reserved";
  return undefined;
}

/** Why `address` (an IPv4 or IPv6 literal) is not a public internet address, or undefined when it is one. */
export function addressKind(address: string): AddressKind | undefined {
  const bare = address.replace(/^\[|\]$/g, "");
  if (isIP(bare) === 4) return v4Kind(v4(bare));
  const groups = parseIpv6(bare);
  // Not an IP literal at all: nothing to connect to, so nothing public.
  return groups ? v6Kind(groups) : "reserved";
}

export function isPublicAddress(address: string): boolean {
  return addressKind(address) === undefined;
}

/** A host and port the local stack may reach although its address is not public (tests' own servers). */
export interface HostPort {
  host: string;
  port: number;
}

/** `127.0.0.1:8443`, `localhost:8443`, `[::1]:8443`. */
export function parseHostPort(text: string): HostPort {
  const match = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(text.trim());
  const port = match ? Number(match[2]) : NaN;
  if (!match || port < 1 || port > 65535) throw new Error(`not a host:port: ${text}`);
  return { host: match[1].replace(/^\[|\]$/g, "").toLowerCase(), port };
}

/**
 * Whether `address`, reached as `host` on `port`, may be connected to: a public address always; another only
 * when the allow list (the local stack's, never set in AWS) names that host or address with that port.
 */
export function addressAllowed(address: string, target: { host: string; port: number }, allow: readonly HostPort[] = []): boolean {
  if (isPublicAddress(address)) return true;
  const host = target.host.replace(/^\[|\]$/g, "").toLowerCase();
  const bare = address.replace(/^\[|\]$/g, "").toLowerCase();
  return allow.some((entry) => entry.port === target.port && (entry.host === bare || entry.host === host));
}
