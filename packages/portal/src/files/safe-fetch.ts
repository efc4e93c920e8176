import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import { BlockList, isIP } from "node:net";
import { Agent, type Dispatcher, request } from "undici";

/**
 * Downloads from links the platforms give, without letting a link reach the portal's own network
 * (SSRF). The check is on the *resolved* address, inside the connection's own DNS lookup, so a
 * name that resolves to a public address for a check and to 127.0.0.1 for the connection (DNS
 * rebinding) cannot slip through; literal IPs are checked before connecting; each redirect target
 * goes through the same checks.
 */
const blocked = new BlockList();
for (const [net, prefix] of [
  ["0.0.0.0", 8],
  ["10.0.0.0", 8],
  ["100.64.0.0", 10],
  ["127.0.0.0", 8],
  ["169.254.0.0", 16],
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["224.0.0.0", 4],
  ["240.0.0.0", 4],
] as const) {
  blocked.addSubnet(net, prefix, "ipv4");
}
for (const [net, prefix] of [
  ["::", 128],
  ["::1", 128],
  ["fc00::", 7],
  ["fe80::", 10],
  ["ff00::", 8],
  ["64:ff9b::", 96],
] as const) {
  blocked.addSubnet(net, prefix, "ipv6");
}

/** Whether an IP address is private, loopback, link-local, multicast or otherwise not public. */
export function isPrivateAddress(ip: string): boolean {
  const family = isIP(ip);
  if (family === 4) return blocked.check(ip, "ipv4");
  if (family === 6) {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
    if (mapped) return blocked.check(mapped[1], "ipv4");
    return blocked.check(ip, "ipv6");
  }
  return true;
}

export class AddressRefused extends Error {
  constructor(readonly address: string) {
    super(`The link points to a private or loopback address (${address}).`);
  }
}

/** An undici Agent whose DNS lookup refuses private addresses (unless allowed). */
export function guardedAgent(allowPrivate: boolean, connectTimeoutMs: number): Agent {
  const lookup = (
    hostname: string,
    options: any,
    callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
  ) => {
    dnsLookup(hostname, options, (err, address: any, family?: number) => {
      if (err) return callback(err, address, family);
      const list: string[] = Array.isArray(address)
        ? address.map((a: LookupAddress) => a.address)
        : [address];
      const bad = allowPrivate ? undefined : list.find((a) => isPrivateAddress(a));
      if (bad) return callback(new AddressRefused(bad) as NodeJS.ErrnoException, address, family);
      callback(null, address, family);
    });
  };
  return new Agent({ connect: { lookup: lookup as any, timeout: connectTimeoutMs } });
}

export interface GuardedResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Dispatcher.ResponseData["body"];
  url: string;
}

/**
 * GET with redirects followed by hand (each target re-checked), the literal-IP check, and the
 * guarded agent's lookup check. `signal` bounds the whole exchange.
 */
export async function guardedGet(
  url: string,
  o: {
    agent: Agent;
    allowPrivate: boolean;
    maxRedirects: number;
    headersTimeoutMs: number;
    bodyTimeoutMs: number;
    signal: AbortSignal;
  },
): Promise<GuardedResponse> {
  let current = new URL(url);
  for (let hop = 0; ; hop++) {
    if (current.protocol !== "http:" && current.protocol !== "https:") {
      throw new Error(`Only http and https links are downloaded, not ${current.protocol}`);
    }
    const host = current.hostname.replace(/^\[|\]$/g, "");
    if (!o.allowPrivate && isIP(host) && isPrivateAddress(host)) throw new AddressRefused(host);
    const res = await request(current, {
      method: "GET",
      dispatcher: o.agent,
      signal: o.signal,
      headersTimeout: o.headersTimeoutMs,
      bodyTimeout: o.bodyTimeoutMs,
    });
    if (res.statusCode >= 300 && res.statusCode < 400 && res.headers.location) {
      await res.body.dump();
      if (hop >= o.maxRedirects) throw new Error("Too many redirects.");
      const location = Array.isArray(res.headers.location) ? res.headers.location[0] : res.headers.location;
      current = new URL(location, current);
      continue;
    }
    return { status: res.statusCode, headers: res.headers, body: res.body, url: current.toString() };
  }
}
