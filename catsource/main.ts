import { startCatSource } from './server.ts';

/** `npm run catsource`: the local cat source on CAT_SOURCE_PORT (default 8090). */
const port = Number(process.env.CAT_SOURCE_PORT ?? 8090);
const source = await startCatSource({ port, host: process.env.CAT_SOURCE_HOST ?? '127.0.0.1' });
process.stdout.write(`local cat source: ${source.url}/cat\n`);
const stop = () => void source.close().then(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
