# One image per function, built by `faas-cli build -f stack.yml` (build_args: FUNCTION).
# of-watchdog (mode=http) listens on 8080 and forwards each request to the function
# server, the same process the local gateway runs as a replica.
ARG NODE_IMAGE=node:20.20-alpine
ARG WATCHDOG_IMAGE=ghcr.io/openfaas/of-watchdog:0.11.5

FROM ${WATCHDOG_IMAGE} AS watchdog

# ---- build: compile TypeScript and run the unit tests, so a broken function never becomes an image
FROM ${NODE_IMAGE} AS build
WORKDIR /src
# Manifests first: the npm ci layer is cached until the lockfile changes.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run typecheck && npm run test:unit && npm run build

# ---- runtime dependencies only (sharp brings its musl libvips build for Alpine)
FROM ${NODE_IMAGE} AS deps
WORKDIR /home/app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# ---- the function
FROM ${NODE_IMAGE} AS function
ARG FUNCTION
RUN test -n "$FUNCTION" || (echo "build with --build-arg FUNCTION=randstore|randshow|dbstats" && false) \
 && addgroup -S -g 10001 app && adduser -S -u 10001 -G app -h /home/app app
WORKDIR /home/app
COPY --from=deps --chown=root:root /home/app/node_modules ./node_modules
COPY --from=build --chown=root:root /src/dist ./dist
COPY --chown=root:root sql ./sql
COPY --chown=root:root package.json ./
COPY --from=watchdog /fwatchdog /usr/bin/fwatchdog
ENV NODE_ENV=production \
    FUNCTION=${FUNCTION} \
    http_port=3000 \
    HTTP_HOST=127.0.0.1 \
    fprocess="node dist/functions/server/main.js" \
    mode=http \
    upstream_url=http://127.0.0.1:3000 \
    ready_path=/_/health \
    read_timeout=65s \
    write_timeout=65s \
    exec_timeout=60s \
    healthcheck_interval=5s \
    prefix_logs=false
# Nothing is written at run time: the root filesystem can be read-only (stack.yml says so).
USER 10001:10001
EXPOSE 8080
HEALTHCHECK --interval=5s CMD ["wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/_/health"]
CMD ["fwatchdog"]
