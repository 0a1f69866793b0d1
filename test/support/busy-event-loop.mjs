// Preloaded (NODE_OPTIONS=--import=…) into every node process of a test's `npm start`, it keeps
// the event loop of scripts/start.ts busy most of the time, as two loaded cores do: a signal
// handler there runs only once the current 300 ms block ends. Other processes are left alone.
if (process.argv[1]?.endsWith('scripts/start.ts')) {
  setInterval(() => {
    const until = Date.now() + 300;
    while (Date.now() < until) {
      // busy, as a loaded process is
    }
  }, 20).unref();
}
