import { runMain } from '../functions/lib/cli.ts';
import { parseCatSourceConfig } from './config.ts';
import { startCatSource } from './server.ts';

/** `npm run catsource`: the local cat source on CAT_SOURCE_HOST:CAT_SOURCE_PORT (default 127.0.0.1:8090). */
async function main(): Promise<void> {
  const config = parseCatSourceConfig(process.env);
  const source = await startCatSource({ port: config.CAT_SOURCE_PORT, host: config.CAT_SOURCE_HOST });
  process.stdout.write(`local cat source: ${source.url}/cat\n`);
  const stop = () => void source.close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

await runMain(main);
