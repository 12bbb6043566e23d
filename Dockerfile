# Aegis: the `aegis` CLI and its local host in a small, closed image.
#
#   docker build -t aegis .
#   docker run -p 8000:8000 aegis                       # serves on :8000; GET /health
#   docker run --rm aegis --help                        # any other subcommand: status, run, config ...
#
# Stage 1 (node:24-trixie-slim) installs with `npm ci`, bundles the CLI and host
# with esbuild into one file and collects the only package that cannot be
# bundled: libSQL's native binding. Stage 2 is distroless Node 24 (Debian 13):
# no shell, no package manager; it receives the bundle, the dashboard, the
# binding and a non-root user `aegis` (uid 10001) that owns /app/data.
# Works with the classic builder and BuildKit alike (no `# syntax=`, no RUN --mount).

ARG BUILD_IMAGE=node:24-trixie-slim
ARG RUNTIME_IMAGE=gcr.io/distroless/nodejs24-debian13

# The runtime base, named so that the build stage can read its /etc/passwd and /etc/group.
FROM ${RUNTIME_IMAGE} AS runtime-base

# ── build ───────────────────────────────────────────────────────────────────
FROM ${BUILD_IMAGE} AS build
WORKDIR /build

# Dependencies first: this layer is reused until package*.json change.
# --ignore-scripts: nothing needs an install script (libSQL ships prebuilt
# platform packages, esbuild its binary); `prepare` (the build) runs below.
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund --loglevel=error

# The sources (.dockerignore lets in only what the build reads).
COPY . .

# /out mirrors the runtime image's filesystem.
#  - dist/aegis.mjs: the minified bundle (`npm run build`; its source map stays behind);
#  - dist/dashboard/: the dashboard's static files, found beside the bundle;
#  - node_modules/: libsql with its two small helpers and the native platform
#    package this build stage loaded (glibc, as in the runtime);
#  - .aegis.yaml: the default configuration (no services; keys from the environment);
#  - the passwd/group files of the runtime base plus the user and group `aegis`;
#  - var/data/, which becomes /app/data: the history's directory, group 0 and
#    group-writable, so that any UID in group 0 (OpenShift, Kubernetes runAsUser)
#    can write it, not only `aegis`. It is copied as the child of var/ because
#    COPY creates a directory it copies *into* with mode 0755, losing g+w.
RUN npm run build \
 && mkdir -p /out/app/dist /out/etc /out/var/data \
 && cp dist/aegis.mjs /out/app/dist/aegis.mjs \
 && cp -R dist/dashboard /out/app/dist/dashboard \
 && node docker/collect-runtime.mjs dist/aegis.mjs /out/app/node_modules libsql \
 && cp docker/aegis.yaml /out/app/.aegis.yaml \
 && chmod -R a+rX,go-w /out/app \
 && chmod 0775 /out/var/data \
 && (cd /out/app && node dist/aegis.mjs --version)

COPY --from=runtime-base /etc/passwd /etc/group /tmp/base/
RUN cp /tmp/base/passwd /tmp/base/group /out/etc/ \
 && sed -i -e '$a\' /out/etc/passwd /out/etc/group \
 && echo 'aegis:x:10001:10001:Aegis:/nonexistent:/sbin/nologin' >> /out/etc/passwd \
 && echo 'aegis:x:10001:' >> /out/etc/group \
 && chmod 0644 /out/etc/passwd /out/etc/group

# ── runtime ─────────────────────────────────────────────────────────────────
FROM runtime-base

LABEL org.opencontainers.image.title="aegis" \
      org.opencontainers.image.description="Control plane for HTTP-based QA services: health checks, workflows, history, events and signed webhooks" \
      org.opencontainers.image.licenses="MIT"

COPY --from=build /out/etc/passwd /out/etc/group /etc/
COPY --from=build /out/app/ /app/
COPY --from=build --chown=aegis:root /out/var/ /app/

WORKDIR /app
# JSON logs even under `docker run -t`, whose terminal would otherwise make them pretty.
# MALLOC_ARENA_MAX: infra/node-flags.mjs's environment, as the CLI's shebang sets it.
ENV NODE_ENV=production \
    AEGIS_DB_PATH=/app/data/aegis_history.db \
    LOG_FORMAT=json \
    MALLOC_ARENA_MAX=2

# The history. Declared so that the database lands on a volume even without -v
# (and `--read-only` works as is); mount a named volume here to keep it.
VOLUME ["/app/data"]

USER aegis
EXPOSE 8000

# `aegis healthcheck` exits 0 when GET http://127.0.0.1:8000/health answers 200
# (exec form: there is no shell). Its own request timeout is 5 s; Docker's 10 s
# leaves room for Node's start. (`--start-interval`, for a first check sooner than
# 30 s, needs Docker 25+; older engines and their classic builder reject it.)
HEALTHCHECK --interval=30s --timeout=10s --start-period=20s --retries=3 \
  CMD ["/nodejs/bin/node", "/app/dist/aegis.mjs", "healthcheck"]

# Node is PID 1: `aegis serve` handles SIGTERM itself (stops accepting, finishes
# in-flight requests and webhook attempts, closes the database, exits 0).
# The V8 flags of infra/node-flags.mjs, as the CLI's shebang has them (a test keeps
# the two alike): none; `serve` sets --optimize-for-size itself, at run time, where it
# keeps the heap small without shrinking the young generation (bench/README.md).
ENTRYPOINT ["/nodejs/bin/node", "/app/dist/aegis.mjs"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
