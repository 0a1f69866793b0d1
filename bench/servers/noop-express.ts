import express from 'express';

/**
 * A no-op function in the style of the official OpenFaaS node template: Express with
 * body parsers in front of a handler that gets (event, context) objects.
 */
const app = express();
app.disable('x-powered-by');
app.use(express.json({ limit: '1mb' }));
app.use(express.raw({ type: '*/*', limit: '1mb' }));
app.use(express.text({ type: 'text/*' }));
const handle = async (_event: unknown, context: { status(code: number): { succeed(body: string): void } }) =>
  context.status(200).succeed('ok');
app.all('/*', (req, res) => {
  const event = {
    body: req.body,
    headers: req.headers,
    method: req.method,
    query: req.query,
    path: req.path,
  };
  const context = {
    status(code: number) {
      return {
        succeed(body: string) {
          res.status(code).type('text/plain').send(body);
        },
      };
    },
  };
  void handle(event, context);
});
const server = app.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`${typeof address === 'object' && address ? address.port : 0}\n`);
});
process.on('SIGTERM', () => process.exit(0));
