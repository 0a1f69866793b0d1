/**
 * Which Host a server answers to. A browser on a page of any site can reach a server on
 * loopback; with DNS rebinding (a name that resolves to 127.0.0.1 after the page loaded) it
 * can even read the answers, and the only sign is a Host header naming that site. So a local
 * server answers only to the names it is reached by.
 */

/** The hostname of a Host header (without the port; an IPv6 address without its brackets), lowercased. */
export function hostnameOf(host: string): string {
  const h = host.trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(1, h.indexOf(']'));
  const colon = h.lastIndexOf(':');
  // One colon: name:port. More: a bare IPv6 address, which has no port here.
  return colon >= 0 && h.indexOf(':') === colon ? h.slice(0, colon) : h;
}

export const isLoopback = (hostname: string): boolean =>
  hostname === 'localhost' || hostname === '::1' || /^127(\.\d{1,3}){3}$/.test(hostname);

/** Whether a request's Host header names one of the allowed hosts (loopback always is). */
export function hostAllowed(host: string | undefined, allowed: ReadonlySet<string>): boolean {
  if (!host) return false;
  const name = hostnameOf(host);
  return isLoopback(name) || allowed.has(name);
}
