import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { GatewayInfo } from '../contract/openfaas.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Go's GOARCH for Node's process.arch, as OpenFaaS reports `arch`. */
const GOARCH: Partial<Record<NodeJS.Architecture, string>> = {
  x64: 'amd64',
  ia32: '386',
  arm64: 'arm64',
  arm: 'arm',
};

/** The commit this checkout is at, or "unknown" outside a git checkout. */
function commitSha(): string {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8', stdio: 'pipe' }).trim();
  } catch {
    return 'unknown';
  }
}

/**
 * What `GET /system/info` answers (faas gateway/handlers/infohandler.go wraps the provider's
 * ProviderInfo in a GatewayInfo; faas-cli version prints both): this project is the provider,
 * orchestrating local processes.
 */
export function gatewayInfo(): GatewayInfo {
  const release = (JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as { version: string }).version;
  const version = { release, sha: commitSha() };
  return {
    provider: { provider: 'systembreaker-local', orchestration: 'local', version },
    version,
    arch: GOARCH[process.arch] ?? process.arch,
  };
}
