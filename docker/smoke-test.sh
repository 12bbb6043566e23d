#!/usr/bin/env bash
# Builds the image from this checkout and checks it the way a user runs it:
#   - image: user `aegis` (not root), port 8000, a HEALTHCHECK, AEGIS_DB_PATH; size budgets
#     (the project's own layers, from `docker history`, and the whole image);
#   - `docker run`: /health answers with its structured fields, PID 1 is not root, the
#     image's own health check reaches `healthy`, files are root's except /app/data,
#     `docker stop` ends it with exit 0 well within 10 s;
#   - `--read-only --tmpfs /tmp` under an arbitrary UID in group 0 with a fresh volume
#     (Kubernetes / OpenShift); CLI subcommands through the entrypoint;
#   - compose: `config` accepts the file with and without the scale profile; `up` on the
#     committed defaults, history on the named volume survives `down` / `up`; with the demo
#     profile, demo-pipeline runs full_pipeline successfully.
# Prints the measured figures. Every wait is bounded; everything it creates (containers,
# volumes, the compose project) is removed on exit; the image is kept.
#
# Usage: docker/smoke-test.sh [--no-build] [--no-compose]
#   AEGIS_SMOKE_IMAGE         tag to build and test (default aegis:smoke)
#   AEGIS_SMOKE_MAX_OWN_MB    budget for the project's own layers (default 12, MB = 10^6 bytes)
#   AEGIS_SMOKE_MAX_TOTAL_MB  budget for the whole image (default 200)
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE=${AEGIS_SMOKE_IMAGE:-aegis:smoke}
MAX_OWN_MB=${AEGIS_SMOKE_MAX_OWN_MB:-12}
MAX_TOTAL_MB=${AEGIS_SMOKE_MAX_TOTAL_MB:-200}
BUILD=1
COMPOSE_TESTS=1
for arg in "$@"; do
  case "$arg" in
    --no-build) BUILD=0 ;;
    --no-compose) COMPOSE_TESTS=0 ;;
    *) echo "usage: $0 [--no-build] [--no-compose]" >&2; exit 2 ;;
  esac
done

TAG="aegis-smoke-$$"
CONTAINERS=()
VOLUMES=()
PROJECT="${TAG}"
COMPOSE_UP=0
FIGURES=()

log() { printf '[smoke] %s\n' "$*"; }
figure() { FIGURES+=("$(printf '%-44s %s' "$1" "$2")"); log "$1: $2"; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }
mb() { awk -v b="$1" 'BEGIN { printf "%.2f MB", b / 1e6 }'; }

# Compose v2 (`docker compose`) where it is installed, else v1 (`docker-compose`).
if docker compose version >/dev/null 2>&1; then COMPOSE=(docker compose); else COMPOSE=(docker-compose); fi
# compose SECONDS ARGS...: a bounded compose command on the test's own project.
compose() { local limit=$1; shift; timeout "$limit" "${COMPOSE[@]}" -p "$PROJECT" "$@"; }

cleanup() {
  local status=$?
  set +e
  for c in "${CONTAINERS[@]}"; do docker rm -f -v "$c" >/dev/null 2>&1; done
  if [ "$COMPOSE_UP" = 1 ]; then
    AEGIS_PORT=127.0.0.1: AEGIS_DEMO_PORT=127.0.0.1: AEGIS_DEMO_TRACKER_PORT=127.0.0.1: \
      compose 120 --profile demo down -v --rmi local --remove-orphans >/dev/null 2>&1
  fi
  for v in "${VOLUMES[@]}"; do docker volume rm -f "$v" >/dev/null 2>&1; done
  if [ "$status" -ne 0 ]; then log "FAILED (exit $status)"; fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() {
  echo >&2
  echo "[smoke] FAIL: $*" >&2
  for c in "${CONTAINERS[@]}"; do
    echo "[smoke] --- last log lines of $c ---" >&2
    docker logs --tail 30 "$c" >&2 2>&1 || true
  done
  if [ "$COMPOSE_UP" = 1 ]; then
    echo "[smoke] --- compose logs ---" >&2
    compose 30 --profile demo logs --no-color --tail 40 >&2 2>&1 || true
  fi
  exit 1
}

# curl with a per-request bound; prints the body.
http() { curl -sS --max-time 5 "$@"; }

# wait_http URL SECONDS: polls until URL answers 2xx; fails after SECONDS.
wait_http() {
  local url=$1 limit=$2 start
  start=$(now)
  while ! curl -sf --max-time 2 -o /dev/null "$url" 2>/dev/null; do
    if awk -v s="$start" -v n="$(now)" -v l="$limit" 'BEGIN { exit !(n - s > l) }'; then
      return 1
    fi
    sleep 0.1
  done
}

# host_port CONTAINER: the host port published for the container's 8000/tcp.
host_port() {
  local mapping
  mapping=$(docker port "$1" 8000/tcp)
  mapping=${mapping%%$'\n'*}
  echo "${mapping##*:}"
}

# first_run_id JSON: the first "run_id" in a JSON text.
first_run_id() {
  if [[ $1 =~ \"run_id\":\"([^\"]+)\" ]]; then echo "${BASH_REMATCH[1]}"; fi
}

# inspect FORMAT IMAGE: one field of an image's configuration.
inspect() { docker image inspect -f "$1" "$2"; }

# in_container CONTAINER JS: runs node inside the container (there is no shell).
in_container() { timeout 30 docker exec "$1" /nodejs/bin/node -e "$2"; }

check_health_json() {
  local body=$1
  for field in '"status":"ok"' '"version":"' '"uptime_seconds":' '"services_configured":' '"workflows_configured":'; do
    case "$body" in *"$field"*) ;; *) fail "/health lacks $field: $body" ;; esac
  done
}

# stop_clean CONTAINER LABEL: docker stop must end it with exit 0 well within the 10 s grace.
stop_clean() {
  local c=$1 label=$2 start elapsed code
  start=$(now)
  timeout 30 docker stop -t 10 "$c" >/dev/null || fail "docker stop $label did not return"
  elapsed=$(since "$start")
  code=$(docker inspect -f '{{.State.ExitCode}}' "$c")
  [ "$code" = 0 ] || fail "$label exited with $code after docker stop (137 = killed after the grace period)"
  awk -v e="$elapsed" 'BEGIN { exit !(e < 8) }' || fail "$label took ${elapsed}s to stop"
  figure "docker stop ($label)" "${elapsed} s, exit code $code"
}

command -v docker >/dev/null || fail "docker is not installed"
command -v curl >/dev/null || fail "curl is not installed"
docker info >/dev/null 2>&1 || fail "no Docker engine is reachable"

# ── build ──────────────────────────────────────────────────────────────────
if [ "$BUILD" = 1 ]; then
  log "docker build -t $IMAGE ."
  start=$(now)
  timeout 1200 docker build -t "$IMAGE" . >"/tmp/$TAG-build.log" 2>&1 \
    || { tail -40 "/tmp/$TAG-build.log" >&2; fail "docker build failed (log: /tmp/$TAG-build.log)"; }
  figure "docker build" "$(since "$start") s"
  rm -f "/tmp/$TAG-build.log"
fi
docker image inspect "$IMAGE" >/dev/null 2>&1 || fail "image $IMAGE not found"

# ── image metadata ─────────────────────────────────────────────────────────
user=$(inspect '{{.Config.User}}' "$IMAGE")
[ "$user" = aegis ] || fail "image user is '$user', expected aegis"
[[ $(inspect '{{json .Config.ExposedPorts}}' "$IMAGE") == *'"8000/tcp"'* ]] || fail "port 8000 not exposed"
[[ $(inspect '{{json .Config.Healthcheck}}' "$IMAGE") == *'"healthcheck"'* ]] || fail "no HEALTHCHECK running aegis healthcheck"
[[ $(inspect '{{json .Config.Env}}' "$IMAGE") == *'AEGIS_DB_PATH=/app/data/aegis_history.db'* ]] || fail "AEGIS_DB_PATH not set"
log "image: user aegis, EXPOSE 8000, HEALTHCHECK, AEGIS_DB_PATH: ok"

# ── sizes ──────────────────────────────────────────────────────────────────
base=$(sed -n 's/^ARG RUNTIME_IMAGE=//p;T;q' Dockerfile)
mapfile -t sizes < <(docker history --human=false --format '{{.Size}}' "$IMAGE")
# BuildKit keeps the base it pulled to itself: pull it to read its layers.
docker image inspect "$base" >/dev/null 2>&1 || timeout 300 docker pull -q "$base" >/dev/null \
  || fail "the runtime base $base is neither local nor pullable"
mapfile -t base_sizes < <(docker history --human=false --format '{{.Size}}' "$base")
[ "${#base_sizes[@]}" -gt 0 ] || fail "no layers for the runtime base $base"
own_layers=$((${#sizes[@]} - ${#base_sizes[@]}))
total=0; own=0
for i in "${!sizes[@]}"; do
  total=$((total + sizes[i]))
  [ "$i" -lt "$own_layers" ] && own=$((own + sizes[i]))
done
figure "image size ($IMAGE)" "$(mb "$total")"
figure "runtime base ($base)" "$(mb $((total - own)))"
figure "own layers (docker history, $own_layers rows)" "$(mb "$own")"
docker history --format '{{.Size}}\t{{.CreatedBy}}' "$IMAGE" \
  | awk -F'\t' -v n="$own_layers" 'NR <= n && $1 != "0B" { printf "[smoke]     %-8s %s\n", $1, substr($2, 1, 90) }'
[ "$own" -le $((MAX_OWN_MB * 1000000)) ] || fail "own layers $(mb "$own") exceed ${MAX_OWN_MB} MB"
[ "$total" -le $((MAX_TOTAL_MB * 1000000)) ] || fail "image $(mb "$total") exceeds ${MAX_TOTAL_MB} MB"

# ── CLI through the entrypoint ─────────────────────────────────────────────
want_version=$(sed -n 's/^  "version": "\(.*\)",$/\1/p;T;q' package.json)
got_version=$(timeout 60 docker run --rm "$IMAGE" --version)
[ "$got_version" = "$want_version" ] || fail "aegis --version printed '$got_version', expected $want_version"
timeout 60 docker run --rm "$IMAGE" config validate >/dev/null 2>&1 || fail "aegis config validate failed on the image's default config"
log "CLI: --version ($got_version), config validate: ok"

# ── docker run, as in the README ───────────────────────────────────────────
c="$TAG-run"
start=$(now)
CONTAINERS+=("$c")
docker run -d --name "$c" -p 127.0.0.1::8000 --health-interval 2s "$IMAGE" >/dev/null
port=$(host_port "$c")
wait_http "http://127.0.0.1:$port/health" 30 || fail "/health did not answer within 30 s"
figure "docker run -> /health 200" "$(since "$start") s"
body=$(http "http://127.0.0.1:$port/health")
check_health_json "$body"
log "/health: $body"

uid_line=$(in_container "$c" "const s=require('fs').readFileSync('/proc/1/status','utf8');const u=s.match(/^Uid:\\s+(\\d+)/m)[1];const n=require('fs').readFileSync('/etc/passwd','utf8').split('\\n').find(l=>l.split(':')[2]===u);console.log(u+' '+(n?n.split(':')[0]:'?'))")
[ "$uid_line" = "10001 aegis" ] || fail "PID 1 runs as '$uid_line', expected '10001 aegis'"
figure "PID 1 user" "uid ${uid_line/ / (}), not root"

perms=$(in_container "$c" "
const fs = require('fs');
const st = (p) => { const s = fs.statSync(p); return { p, uid: s.uid, gid: s.gid, mode: s.mode & 0o777 }; };
const [app, bundle, data] = ['/app', '/app/dist/aegis.mjs', '/app/data'].map(st);
const bad = [];
for (const f of [app, bundle]) if (f.uid !== 0 || f.mode & 0o022) bad.push(f.p + ' is not root-owned and read-only for others');
if (data.uid !== 10001 || data.gid !== 0 || !(data.mode & 0o020)) bad.push('/app/data is not aegis:0 and group-writable');
const show = (f) => f.p + ' ' + f.uid + ':' + f.gid + ' ' + f.mode.toString(8);
console.log(bad.length ? 'FAIL ' + bad.join('; ') : 'ok ' + [app, bundle, data].map(show).join(', '));
")
case "$perms" in ok*) log "files: ${perms#ok }" ;; *) fail "$perms" ;; esac

timeout 30 docker exec "$c" /nodejs/bin/node /app/dist/aegis.mjs healthcheck >/dev/null || fail "aegis healthcheck failed inside the container"
start=$(now)
status=""
for _ in $(seq 1 300); do
  status=$(docker inspect -f '{{.State.Health.Status}}' "$c")
  [ "$status" = healthy ] && break
  [ "$status" = unhealthy ] && fail "the image's health check reports unhealthy"
  sleep 0.1
done
[ "$status" = healthy ] || fail "the image's health check did not reach healthy within 30 s ($status)"
figure "image HEALTHCHECK (--health-interval 2s)" "healthy $(since "$start") s later"
if [ -f local-host/dashboard/index.html ]; then
  page=$(http "http://127.0.0.1:$port/")
  case "$page" in *"<html"* | *"<!doctype html"* | *"<!DOCTYPE html"*) log "dashboard: GET / serves the page" ;;
    *) fail "GET / does not serve the dashboard: ${page:0:200}" ;; esac
fi
stop_clean "$c" "docker run"

# ── read-only, arbitrary UID in group 0, fresh volume ──────────────────────
c="$TAG-uid"
vol="$TAG-uid-data"
CONTAINERS+=("$c"); VOLUMES+=("$vol")
start=$(now)
docker run -d --name "$c" --read-only --tmpfs /tmp --user 12345:0 -v "$vol:/app/data" \
  -p 127.0.0.1::8000 "$IMAGE" >/dev/null
port=$(host_port "$c")
wait_http "http://127.0.0.1:$port/health" 30 || fail "--read-only --user 12345:0: /health did not answer within 30 s"
figure "--read-only --user 12345:0 -> /health 200" "$(since "$start") s"
owner=$(in_container "$c" "console.log(require('fs').statSync('/app/data/aegis_history.db').uid)")
[ "$owner" = 12345 ] || fail "the history database is owned by '$owner', expected 12345"
if in_container "$c" "require('fs').writeFileSync('/app/x','x')" >/dev/null 2>&1; then
  fail "the root filesystem is writable under --read-only"
fi
log "read-only root filesystem, database written by uid 12345 on the volume: ok"
stop_clean "$c" "--read-only --user 12345:0"

# ── compose ────────────────────────────────────────────────────────────────
if [ "$COMPOSE_TESTS" = 1 ]; then
  if docker compose version >/dev/null 2>&1; then
    compose_version="docker compose $(docker compose version --short 2>/dev/null)"
  elif command -v docker-compose >/dev/null; then
    compose_version="$(docker-compose version --short 2>/dev/null || echo docker-compose)"
  else
    fail "neither 'docker compose' nor 'docker-compose' is installed"
  fi
  log "compose: $compose_version, project $PROJECT (the committed defaults; ports on 127.0.0.1, ephemeral)"
  # The committed defaults, whatever this shell has set; only the published ports change.
  unset AEGIS_CONFIG_FILE AEGIS_API_KEY AEGIS_DB_URL AEGIS_DB_AUTH_TOKEN QAAGENT_API_KEY BUGALIZER_API_KEY \
    AEGIS_DEMO_WEBHOOK_URL AEGIS_DEMO_WEBHOOK_SECRET COMPOSE_FILE COMPOSE_PROFILES
  export AEGIS_PORT=127.0.0.1: AEGIS_DEMO_PORT=127.0.0.1: AEGIS_DEMO_TRACKER_PORT=127.0.0.1:

  [ ! -f .env ] || log "note: ./.env exists; compose reads it, so these are not quite the committed defaults"

  # The scale profile (a libSQL server and two hosts on it) is checked as a file only: its
  # image is not pulled here. `config` must accept the file with and without the profile.
  compose 60 config -q || fail "compose config rejects docker-compose.yml"
  compose 60 --profile scale config -q || fail "compose --profile scale config rejects docker-compose.yml"
  scale_config=$(AEGIS_A_PORT=18001 AEGIS_B_PORT=18002 compose 60 --profile scale config)
  scale_services=" $(compose 60 --profile scale config --services | tr '\n' ' ') "
  for service in aegis libsql aegis-a aegis-b; do
    [[ $scale_services == *" $service "* ]] || fail "compose --profile scale config lacks the service $service"
  done
  for port in 18001 18002; do
    # Compose v1 prints `published: 18001`, v2 `published: "18001"`.
    [[ $scale_config =~ published:\ \"?$port\"?($'\n'|$) ]] \
      || fail "compose --profile scale config does not publish AEGIS_A_PORT / AEGIS_B_PORT ($port)"
  done
  [[ $scale_config == *"AEGIS_DB_URL: http://libsql:8080"* ]] || fail "the scale hosts do not point AEGIS_DB_URL at the libsql service"
  log "compose config: accepted with and without --profile scale (libsql, aegis-a, aegis-b)"
  cli_help=$(timeout 60 docker run --rm "$IMAGE" --help 2>/dev/null || true)
  grep -q '^ *demo-services' <<<"$cli_help" || fail "the image has no 'aegis demo-services' command (the demo profile needs it)"

  COMPOSE_UP=1
  start=$(now)
  compose 900 --profile demo up -d >"/tmp/$TAG-compose.log" 2>&1 \
    || { tail -30 "/tmp/$TAG-compose.log" >&2; fail "compose up failed"; }
  rm -f "/tmp/$TAG-compose.log"
  aegis_id=$(compose 30 ps -q aegis)
  port=$(host_port "$aegis_id")
  wait_http "http://127.0.0.1:$port/health" 60 || fail "compose: /health did not answer within 60 s"
  figure "compose --profile demo up -d -> /health 200" "$(since "$start") s (build cache warm)"
  check_health_json "$(http "http://127.0.0.1:$port/health")"
  [ "$(docker inspect -f '{{.HostConfig.ReadonlyRootfs}}' "$aegis_id")" = true ] || fail "compose: aegis is not read-only"

  # demo-pipeline runs full_pipeline once the demo services are healthy, then exits.
  pipeline_id=""
  state=""
  deadline=$(($(date +%s) + 120))
  while [ "$(date +%s)" -lt "$deadline" ]; do
    pipeline_id=$(compose 30 ps -a -q demo-pipeline 2>/dev/null || true)
    if [ -n "$pipeline_id" ]; then
      state=$(docker inspect -f '{{.State.Status}}' "$pipeline_id")
      [ "$state" = exited ] && break
    fi
    sleep 0.5
  done
  [ "$state" = exited ] || fail "demo-pipeline did not finish within 120 s (${state:-not created})"
  code=$(docker inspect -f '{{.State.ExitCode}}' "$pipeline_id")
  docker logs "$pipeline_id" 2>&1 | sed 's/^/[smoke]   demo-pipeline | /'
  [ "$code" = 0 ] || fail "demo-pipeline (aegis run full_pipeline) exited with $code"
  figure "compose --profile demo up -> full_pipeline done" "$(since "$start") s, exit code 0"
  history=$(http "http://127.0.0.1:$port/api/workflows/full_pipeline/history")
  run_id=$(first_run_id "$history")
  [ -n "$run_id" ] || fail "the demo run is not in Aegis's history: $history"
  case "$history" in *'"success":true'*) ;; *) fail "the demo run did not succeed: $history" ;; esac
  log "demo run $run_id recorded in Aegis's history (shared volume), success: true"

  compose 120 --profile demo down >/dev/null 2>&1 || fail "compose down failed"
  [ -z "$(compose 30 ps -q aegis 2>/dev/null)" ] || fail "compose down left the aegis container"
  docker volume inspect "${PROJECT}_aegis-data" >/dev/null 2>&1 || fail "compose down removed the volume ${PROJECT}_aegis-data"
  start=$(now)
  compose 300 up -d >/dev/null 2>&1 || fail "compose up (again) failed"
  aegis_id=$(compose 30 ps -q aegis)
  port=$(host_port "$aegis_id")
  wait_http "http://127.0.0.1:$port/health" 60 || fail "compose (again): /health did not answer within 60 s"
  run=$(curl -s --max-time 5 -w '\n%{http_code}' "http://127.0.0.1:$port/api/runs/$run_id")
  [ "${run##*$'\n'}" = 200 ] || fail "run $run_id is gone after compose down / up: $run"
  figure "compose down / up (no profile)" "run $run_id still in the history ($(since "$start") s to /health)"
  start=$(now)
  compose 60 stop -t 10 >/dev/null 2>&1 || fail "compose stop failed"
  code=$(docker inspect -f '{{.State.ExitCode}}' "$aegis_id")
  [ "$code" = 0 ] || fail "compose stop: aegis exited with $code"
  figure "compose stop" "$(since "$start") s, exit code $code"
fi

echo
log "all checks passed. Figures:"
for f in "${FIGURES[@]}"; do printf '[smoke]   %s\n' "$f"; done
