#!/usr/bin/env bash
# The one way to install, start and stop the real servers image-mirror's tests talk to.
#
#   infra/testbed.sh install            apt packages (docker-registry, skopeo, jq, htpasswd, chromium),
#                                       dynoxide from npm (infra/package-lock.json), s3proxy and
#                                       ElasticMQ from Maven Central (infra/servers/pom.xml)
#   infra/testbed.sh start [SERVICE..]  start s3proxy, dynoxide, elasticmq (default: all) on 127.0.0.1
#   infra/testbed.sh stop [SERVICE..]   stop what start started, each by its own PID
#   infra/testbed.sh status             one line per service
#   infra/testbed.sh env                the endpoint variables, as shell exports
#
# Every server binds 127.0.0.1. PIDs and logs live in infra/.run/, downloads in infra/.cache/.
# start is idempotent: a service whose recorded PID is alive and whose port answers is left alone.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
run_dir="$here/.run"
cache_dir="$here/.cache"
mkdir -p "$run_dir" "$cache_dir"

S3_PORT="${IMAGE_MIRROR_S3_PORT:-4561}"
DYNAMO_PORT="${IMAGE_MIRROR_DYNAMODB_PORT:-4568}"
SQS_PORT="${IMAGE_MIRROR_SQS_PORT:-4576}"
ALL_SERVICES=(s3proxy dynoxide elasticmq)

s3proxy_jar="$cache_dir/s3proxy-4.1.0-jar-with-dependencies.jar"
elasticmq_cp="$cache_dir/elasticmq.classpath"
dynoxide_bin="$here/node_modules/@dynoxide/linux-x64/dynoxide"

log() { echo "testbed: $*" >&2; }

install() {
  local need=()
  command -v docker-registry >/dev/null || need+=(docker-registry)
  command -v skopeo >/dev/null || need+=(skopeo)
  command -v jq >/dev/null || need+=(jq)
  command -v htpasswd >/dev/null || need+=(apache2-utils)
  # a real browser for the /ui/ page test (ViewCommandsTest): Debian's chromium, run headless
  command -v chromium >/dev/null || need+=(chromium)
  if ((${#need[@]})); then
    if [ "$(id -u)" != 0 ]; then
      log "missing ${need[*]}: run as root (or: sudo apt-get install -y ${need[*]})"; exit 1
    fi
    log "apt-get install ${need[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  fi
  if [ ! -x "$dynoxide_bin" ]; then
    log "npm ci (dynoxide)"
    (cd "$here" && npm ci --no-audit --no-fund --silent)
  fi
  if [ ! -s "$s3proxy_jar" ]; then
    log "fetching s3proxy 4.1.0"
    mvn -B -q dependency:copy -Dartifact=org.gaul:s3proxy:4.1.0:jar:jar-with-dependencies \
      -DoutputDirectory="$cache_dir" -Dmdep.overWriteReleases=false
  fi
  if [ ! -s "$elasticmq_cp" ]; then
    log "resolving ElasticMQ 1.7.1"
    mvn -B -q -f "$here/servers/pom.xml" dependency:build-classpath -Dmdep.outputFile="$elasticmq_cp"
  fi
}

port_of() {
  case "$1" in
    s3proxy) echo "$S3_PORT" ;;
    dynoxide) echo "$DYNAMO_PORT" ;;
    elasticmq) echo "$SQS_PORT" ;;
    *) log "unknown service $1 (one of: ${ALL_SERVICES[*]})"; exit 2 ;;
  esac
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

alive() {
  local pidfile="$run_dir/$1.pid"
  [ -s "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null
}

start_one() {
  local svc="$1" port; port="$(port_of "$svc")"
  if alive "$svc" && port_open "$port"; then return 0; fi
  if port_open "$port"; then
    # Another checkout's test bed (or a developer's own server) already answers there: reuse it.
    log "127.0.0.1:$port already answers; using that $svc (not started or stopped by this checkout)"
    return 0
  fi
  local logf="$run_dir/$svc.log"
  case "$svc" in
    s3proxy)
      [ -s "$s3proxy_jar" ] || { log "s3proxy missing: run infra/testbed.sh install"; exit 1; }
      # Objects on disk, not in s3proxy's heap: the large-blob tests store 1 GiB objects.
      rm -rf "$run_dir/s3data"; mkdir -p "$run_dir/s3data"
      sed -e "s/:4561\$/:$S3_PORT/" -e "s|S3_DATA_DIR|$run_dir/s3data|" \
        "$here/servers/s3proxy.properties" > "$run_dir/s3proxy.properties"
      nohup java -Xmx512m -jar "$s3proxy_jar" --properties "$run_dir/s3proxy.properties" >"$logf" 2>&1 &
      ;;
    dynoxide)
      [ -x "$dynoxide_bin" ] || { log "dynoxide missing: run infra/testbed.sh install"; exit 1; }
      nohup "$dynoxide_bin" serve --host 127.0.0.1 --port "$DYNAMO_PORT" >"$logf" 2>&1 &
      ;;
    elasticmq)
      [ -s "$elasticmq_cp" ] || { log "ElasticMQ missing: run infra/testbed.sh install"; exit 1; }
      sed "s/4576/$SQS_PORT/g" "$here/servers/elasticmq.conf" > "$run_dir/elasticmq.conf"
      nohup java -Xmx512m -Dconfig.file="$run_dir/elasticmq.conf" -cp "$(cat "$elasticmq_cp")" \
        org.elasticmq.server.Main >"$logf" 2>&1 &
      ;;
  esac
  echo $! > "$run_dir/$svc.pid"
  for _ in $(seq 1 300); do
    if port_open "$port"; then log "$svc up on 127.0.0.1:$port (pid $(cat "$run_dir/$svc.pid"))"; return 0; fi
    if ! alive "$svc"; then break; fi
    sleep 0.1
  done
  log "$svc did not come up; last log lines:"; tail -20 "$logf" >&2 || true
  exit 1
}

stop_one() {
  local svc="$1" pidfile="$run_dir/$1.pid"
  port_of "$svc" >/dev/null
  [ -s "$pidfile" ] || return 0
  local pid; pid="$(cat "$pidfile")"
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    log "$svc stopped (pid $pid)"
  fi
  rm -f "$pidfile"
}

cmd="${1:-}"; shift || true
services=("$@"); ((${#services[@]})) || services=("${ALL_SERVICES[@]}")
case "$cmd" in
  install) install ;;
  start) for s in "${services[@]}"; do start_one "$s"; done ;;
  stop) for s in "${services[@]}"; do stop_one "$s"; done ;;
  status)
    for s in "${services[@]}"; do
      if alive "$s"; then echo "$s running pid $(cat "$run_dir/$s.pid") port $(port_of "$s")"; else echo "$s stopped"; fi
    done ;;
  env)
    echo "export AWS_ENDPOINT_URL_S3=http://127.0.0.1:$S3_PORT"
    echo "export AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:$DYNAMO_PORT"
    echo "export AWS_ENDPOINT_URL_SQS=http://127.0.0.1:$SQS_PORT"
    echo "export AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test" ;;
  *) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
