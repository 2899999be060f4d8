#!/usr/bin/env bash
# Benchmark (issue 6): pulling through `image-mirror serve` vs CNCF distribution 2.8 as a proxy.
#
#   bench/pull-through.sh               # N=5 rounds, 512 MiB layer
#   N=5 LAYER_MIB=256 OUT=/tmp/r.md bench/pull-through.sh
#   WARM_SERVE=1 bench/pull-through.sh  # warm each fresh serve's JIT first (see below)
#
# One local upstream docker-registry (access log on) holds a single-layer image. Each round, skopeo
# pulls it into a fresh `dir:` (a) directly from the upstream, (b) through docker-registry in proxy
# mode with fresh storage: cold, then warm, (c) through `image-mirror serve` with a fresh data dir:
# cold, then warm. `sync` runs before each timed pull (outside the clock). Servers are started (and answer /v2/) before the clock starts. Upstream blob GETs
# and the bytes they sent are counted from the upstream's access log for each proxied pull, after a
# settle delay (SETTLE seconds, default 3) so background fills are counted too. image-mirror fetches
# large blobs with parallel ranged GETs (206 answers): those parts are one fetch of the blob, so
# "one fetch per blob" means every blob was asked for and the bytes sent are exactly the blobs'
# sizes (nothing fetched twice); the GET lines are reported as GETs/blobs/206s. The client writes
# into PULL_DIR (default /dev/shm when it is a writable tmpfs, else the temp dir): the client's own
# disk writes are the same for every path and only add noise. Server CPU is user+system time of the
# serving process (/proc/PID/stat) from the start of a pull to the end of its settle delay. Prints a Markdown
# table and writes it to $OUT (default bench/results/pull-through.md).
#
# WARM_SERVE=1: before the timed cold pull, each fresh `serve` first fetches an unrelated 128 MiB
# blob (pushed to the upstream once, untimed, not counted), so the cold pull measures a running
# service rather than a JVM that compiles its hot paths during the pull. The proxy needs no such
# warm-up (Go is compiled ahead of time).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
N="${N:-5}"
SETTLE="${SETTLE:-3}"
SERVE_JAVA_OPTS="${SERVE_JAVA_OPTS:-}"
WARM_SERVE="${WARM_SERVE:-0}"
OUT="${OUT:-$here/results/pull-through.md}"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/bench-pull.XXXXXX")"
. "$here/lib.sh"
if [ -z "${PULL_DIR:-}" ]; then
  if [ -w /dev/shm ] && [ "$(stat -f -c %T /dev/shm 2>/dev/null)" = tmpfs ]; then PULL_DIR=/dev/shm; else PULL_DIR="$WORK"; fi
fi
PULL_OUT="$(mktemp -d "$PULL_DIR/bench-pull-out.XXXXXX")"
trap 'rm -rf "${PULL_OUT:-/nonexistent}"; bench_cleanup' EXIT
trap 'exit 130' INT TERM
need_tools java docker-registry skopeo jq curl openssl python3 sha256sum
[ -s "$JAR" ] || die "no jar at $JAR: run mvn -B -q -ntp package -DskipTests"
[[ "$N" =~ ^[1-9][0-9]*$ ]] && [ "$N" -le 20 ] || die "N must be 1..20"

UP_PORT="$(free_port)"; UP="127.0.0.1:$UP_PORT"
start_registry upstream "$UP_PORT" "$WORK/upstream"
UP_PID="$REG_PID"
UPLOG="$WORK/upstream.access.log"
build_image "$WORK/layout"
push_image "$WORK/layout" "$UP" bench/big:1
rm -rf "$WORK/layout"
if [ "$WARM_SERVE" = 1 ]; then
  # an unrelated blob for warming up each fresh serve (monolithic upload over the registry API)
  head -c $((128 << 20)) /dev/urandom > "$WORK/warmup.bin"
  WARM_DIGEST="sha256:$(sha256sum "$WORK/warmup.bin" | cut -d' ' -f1)"
  loc="$(curl -s -o /dev/null -D - -X POST "http://$UP/v2/bench/warmup/blobs/uploads/" | tr -d '\r' | awk 'tolower($1)=="location:"{print $2}')"
  case "$loc" in http*) ;; *) loc="http://$UP$loc" ;; esac
  case "$loc" in *\?*) sep='&' ;; *) sep='?' ;; esac
  [ "$(curl -s -o /dev/null -w '%{http_code}' -X PUT -H 'Content-Type: application/octet-stream' \
      --data-binary @"$WORK/warmup.bin" "$loc${sep}digest=$WARM_DIGEST")" = 201 ] || die "warm-up blob push failed"
  rm -f "$WORK/warmup.bin"
fi

# pull HOSTPORT [SERVER_PID] -> sets T_PULL (and C0, the server's CPU seconds before the pull)
pull() {
  local out="$PULL_OUT/pull" t0 t1
  C0="$(cpu_secs "${2:-$$}")"
  rm -rf "$out"
  sync  # flush earlier runs' dirty pages outside the clock
  t0="$(now)"
  skopeo copy -q --src-tls-verify=false "docker://$1/bench/big:1" "dir:$out" > "$WORK/skopeo.out" 2>&1 \
    || { cat "$WORK/skopeo.out" >&2; die "skopeo pull from $1 failed"; }
  t1="$(now)"
  [ "$(stat -c %s "$out/${IMAGE_LAYER_DIGEST#sha256:}" 2>/dev/null || echo 0)" = "$IMAGE_LAYER_SIZE" ] \
    || die "pulled layer missing or wrong size (from $1)"
  rm -rf "$out"
  T_PULL="$(elapsed "$t0" "$t1")"
}

# upstream_since LINE [SERVER_PID] -> sets UP_GETS UP_BYTES (blob GETs at the upstream after LINE,
# after settling), UP_FETCH ("GETs/blobs/206s") and CPU (the server's CPU seconds since the pull
# began, background work included)
upstream_since() {
  sleep "$SETTLE"
  local blobs partial
  read -r UP_GETS blobs partial UP_BYTES < <(blob_get_stats "$UPLOG" "$1")
  UP_FETCH="$UP_GETS/$blobs/$partial"; UP_BLOBS="$blobs"
  CPU="$(awk -v a="$C0" -v b="$(cpu_secs "${2:-$$}")" 'BEGIN{printf "%.2f", b - a}')"
}

# one untimed pull so the upstream's blob is in the page cache for every path alike
pull "$UP"

declare -a dcpu pccpu pwcpu sccpu swcpu dgets direct pcold pwarm scold swarm pgets pbytes sgets sbytes pwgets swgets sfetch sblobs
for ((i = 1; i <= N; i++)); do
  # (a) direct
  mark="$(lines "$UPLOG")"; pull "$UP" "$UP_PID"; direct+=("$T_PULL")
  upstream_since "$mark" "$UP_PID"; dgets+=("$UP_GETS"); dcpu+=("$CPU")

  # (b) distribution proxy, fresh storage
  pport="$(free_port)"
  start_registry "proxy-$i" "$pport" "$WORK/proxy-$i" "http://$UP"
  mark="$(lines "$UPLOG")"; pull "127.0.0.1:$pport" "$REG_PID"; pcold+=("$T_PULL")
  upstream_since "$mark" "$REG_PID"; pgets+=("$UP_GETS"); pbytes+=("$UP_BYTES"); pccpu+=("$CPU")
  mark="$(lines "$UPLOG")"; pull "127.0.0.1:$pport" "$REG_PID"; pwarm+=("$T_PULL")
  upstream_since "$mark" "$REG_PID"; pwgets+=("$UP_GETS"); pwcpu+=("$CPU")
  stop_pid "$REG_PID"; rm -rf "$WORK/proxy-$i"

  # (c) image-mirror serve, fresh data dir
  sport="$(free_port)"
  start_serve "$WORK/data-$i" "$sport" "$UP"
  if [ "$WARM_SERVE" = 1 ]; then
    curl -s -o /dev/null "http://127.0.0.1:$sport/v2/bench/warmup/blobs/$WARM_DIGEST" || die "warm-up pull failed"
    sleep "$SETTLE"  # let its store pass finish before the clock starts
  fi
  mark="$(lines "$UPLOG")"; pull "127.0.0.1:$sport" "$SERVE_PID"; scold+=("$T_PULL")
  upstream_since "$mark" "$SERVE_PID"; sgets+=("$UP_GETS"); sbytes+=("$UP_BYTES"); sccpu+=("$CPU")
  sfetch+=("$UP_FETCH"); sblobs+=("$UP_BLOBS")
  mark="$(lines "$UPLOG")"; pull "127.0.0.1:$sport" "$SERVE_PID"; swarm+=("$T_PULL")
  upstream_since "$mark" "$SERVE_PID"; swgets+=("$UP_GETS"); swcpu+=("$CPU")
  stop_pid "$SERVE_PID"; rm -rf "$WORK/data-$i"

  log "round $i/$N (load $(cut -d' ' -f1 /proc/loadavg)): direct ${direct[-1]}s | proxy cold ${pcold[-1]}s (${pgets[-1]} GETs, ${pbytes[-1]} B) warm ${pwarm[-1]}s | image-mirror cold ${scold[-1]}s (${sfetch[-1]} GETs/blobs/206s, ${sbytes[-1]} B) warm ${swarm[-1]}s"
done

m_direct="$(median "${direct[@]}")"; m_pcold="$(median "${pcold[@]}")"; m_pwarm="$(median "${pwarm[@]}")"
m_scold="$(median "${scold[@]}")"; m_swarm="$(median "${swarm[@]}")"
r_cold="$(ratio "$m_scold" "$m_pcold")"; r_warm="$(ratio "$m_swarm" "$m_direct")"; r_pwarm="$(ratio "$m_pwarm" "$m_direct")"
blobs=2  # config + layer
expected_bytes=$((IMAGE_LAYER_SIZE + IMAGE_CONFIG_SIZE))
one_fetch="$(paste -d' ' <(printf '%s\n' "${sblobs[@]}") <(printf '%s\n' "${sbytes[@]}") \
  | awk -v b=$blobs -v e="$expected_bytes" '$1 != b || $2 != e {bad=1} END{print bad ? "no" : "yes"}')"
t_cold="$(awk -v r="$r_cold" -v o="$one_fetch" 'BEGIN{print (r <= 0.85 && o == "yes") ? "met" : "missed"}')"
t_warm="$(awk -v r="$r_warm" 'BEGIN{print (r <= 1.05) ? "met" : "missed"}')"
mib() { awk -v b="$1" 'BEGIN{printf "%.1f MiB", b/1048576}'; }
mkdir -p "$(dirname "$OUT")"
{
  echo "### pull-through — $(date -u +%Y-%m-%dT%H:%MZ)"
  echo
  echo "Image: 1 layer of $IMAGE_LAYER_SIZE bytes (${LAYER_MIB} MiB incompressible) + config; client skopeo → \`dir:\` in $PULL_DIR; $N rounds (median)."
  echo
  echo "| path | runs (s) | median (s) | ratio | upstream blob GETs per pull | upstream bytes per pull | server CPU s per pull (median) |"
  echo "| --- | --- | --- | --- | --- | --- | --- |"
  echo "| (a) direct from upstream | ${direct[*]} | $m_direct | 1.00 (baseline) | ${dgets[*]} | – | $(median "${dcpu[@]}") (upstream) |"
  echo "| (b) distribution 2.8 proxy, cold | ${pcold[*]} | $m_pcold | 1.00 (cold baseline) | ${pgets[*]} | $(mib "$(median "${pbytes[@]}")") | $(median "${pccpu[@]}") |"
  echo "| (b) distribution 2.8 proxy, warm | ${pwarm[*]} | $m_pwarm | ${r_pwarm} of direct | ${pwgets[*]} | – | $(median "${pwcpu[@]}") |"
  echo "| (c) image-mirror serve, cold | ${scold[*]} | $m_scold | **${r_cold}** of proxy cold | ${sfetch[*]} (GETs/blobs/206s) | $(mib "$(median "${sbytes[@]}")") | $(median "${sccpu[@]}") |"
  echo "| (c) image-mirror serve, warm | ${swarm[*]} | $m_swarm | **${r_warm}** of direct | ${swgets[*]} | – | $(median "${swcpu[@]}") |"
  echo
  echo "Targets: cold ≤ 0.85x the distribution proxy with one upstream fetch per blob ($blobs blobs, $expected_bytes bytes; the ranged parts of a blob are one fetch of it): **$t_cold**"
  echo "(ratio $r_cold, one fetch per blob: $one_fetch); warm within 5% of direct: **$t_warm** (ratio $r_warm)."
  echo
  machine_info
} | tee "$OUT"
