import { describe, expect, it } from 'vitest';
import { hostAllowed, hostnameOf, isLoopback } from '../../functions/lib/hosts.ts';
import { exposureProblem, parseGatewayConfig } from '../../gateway/config.ts';
import { runToEnd } from '../support/process.ts';

describe('the Host a local server answers', () => {
  it('reads the name from a Host header: with a port, IPv6 in brackets, a bare IPv6 address', () => {
    expect(hostnameOf('LocalHost:8080')).toBe('localhost');
    expect(hostnameOf('[::1]:8080')).toBe('::1');
    expect(hostnameOf('::1')).toBe('::1');
    expect(hostnameOf('evil.example')).toBe('evil.example');
  });

  it('answers every loopback name, the allowed ones, and nothing else', () => {
    const allowed = new Set(['sb.local']);
    for (const host of ['127.0.0.1:8080', '127.9.9.9', 'localhost', '[::1]:1', 'sb.local:8080'])
      expect(hostAllowed(host, allowed), host).toBe(true);
    for (const host of ['evil.example:8080', '127.0.0.1.evil.example', '', undefined])
      expect(hostAllowed(host, allowed), String(host)).toBe(false);
    expect(isLoopback('0.0.0.0')).toBe(false);
  });
});

describe('npm start on a non-loopback address', () => {
  it('default: loopback, nothing to refuse', () => {
    expect(exposureProblem(parseGatewayConfig({}))).toBeUndefined();
  });

  it('refuses all addresses without basic auth, and says what to set', () => {
    expect(exposureProblem(parseGatewayConfig({ GATEWAY_HOST: '0.0.0.0' }))).toMatch(
      /^GATEWAY_HOST=0\.0\.0\.0 puts the gateway beyond this machine without basic auth.*GATEWAY_BASIC_AUTH_FILE.*GATEWAY_UNSAFE_NO_AUTH=true/,
    );
  });

  it('override: basic auth, or saying it is unsafe, lets it start', () => {
    expect(
      exposureProblem(parseGatewayConfig({ GATEWAY_HOST: '::', GATEWAY_BASIC_AUTH_FILE: 'auth' })),
    ).toBeUndefined();
    expect(
      exposureProblem(parseGatewayConfig({ GATEWAY_HOST: '::', GATEWAY_UNSAFE_NO_AUTH: 'true' })),
    ).toBeUndefined();
  });

  it('is refused by npm start itself before anything starts: exit 2 and the reason', async () => {
    const { code, output } = await runToEnd(['--import', 'tsx', 'scripts/start.ts'], {
      GATEWAY_HOST: '0.0.0.0',
    });
    expect(code).toBe(2);
    expect(output).toContain('puts the gateway beyond this machine without basic auth');
    expect(output).not.toContain('MySQL:');
  });
});
