#!/usr/bin/env bash
# An npm registry mirror on loopback, for builds whose containers cannot reach the registry
# themselves: verdaccio (pinned; its node-fetch pinned to 2.7.0, which runs on Node 20) proxying
# registry.npmjs.org, on 127.0.0.1:4873. `start` installs it once and waits until it answers;
# `stop` ends it. The build reaches it with `--network host` (npm run images does that for a
# loopback NPM_REGISTRY).
set -euo pipefail
DIR="${NPM_MIRROR_DIR:-/opt/npm-mirror}"
ADDR="${NPM_MIRROR_ADDR:-127.0.0.1:4873}"
log() { printf '[npm-mirror] %s\n' "$*"; }

case "${1:-}" in
  start)
    mkdir -p "$DIR/storage"
    if [ ! -x "$DIR/node_modules/.bin/verdaccio" ]; then
      cat > "$DIR/package.json" <<'JSON'
{ "name": "npm-mirror", "private": true,
  "dependencies": { "verdaccio": "6.8.0" },
  "overrides": { "node-fetch": "2.7.0" } }
JSON
      (cd "$DIR" && timeout 600 npm install --no-audit --no-fund --loglevel=error >/dev/null)
      log "installed verdaccio 6.8.0 in $DIR"
    fi
    cat > "$DIR/config.yaml" <<YAML
storage: $DIR/storage
uplinks:
  npmjs:
    url: https://registry.npmjs.org/
    timeout: 60s
packages:
  '**':
    access: \$all
    proxy: npmjs
log: { type: stdout, format: pretty, level: warn }
YAML
    if curl -sf "http://$ADDR/-/ping" >/dev/null 2>&1; then log "already answering on $ADDR"; exit 0; fi
    nohup "$DIR/node_modules/.bin/verdaccio" --config "$DIR/config.yaml" --listen "$ADDR" \
      >"$DIR/verdaccio.log" 2>&1 &
    echo $! > "$DIR/verdaccio.pid"
    for _ in $(seq 1 60); do
      if curl -sf "http://$ADDR/-/ping" >/dev/null 2>&1; then log "answering on http://$ADDR/"; exit 0; fi
      sleep 0.5
    done
    log "did not answer on $ADDR within 30 s:"; tail -20 "$DIR/verdaccio.log" >&2; exit 1
    ;;
  stop)
    if [ -f "$DIR/verdaccio.pid" ]; then kill "$(cat "$DIR/verdaccio.pid")" 2>/dev/null || true; rm -f "$DIR/verdaccio.pid"; fi
    ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
