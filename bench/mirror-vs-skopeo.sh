#!/usr/bin/env bash
# Benchmark (issue 5): `image-mirror mirror` vs `skopeo copy` registry -> registry.
#
#   bench/mirror-vs-skopeo.sh            # N=3 runs each, interleaved, 512 MiB layer
#   N=5 LAYER_MIB=256 OUT=/tmp/r.md bench/mirror-vs-skopeo.sh
#
# One local upstream docker-registry holds a single-layer image (LAYER_MIB MiB, incompressible).
# Each run: (1) image-mirror mirrors it into a fresh local store (dir + SQLite) with -Xmx128m,
# wall time (`sync` first, outside the clock) and peak RSS via /usr/bin/time -v (or VmHWM sampling); (2) skopeo copies it to a
# fresh second docker-registry. The order alternates per run. Prints a Markdown table and
# writes it to $OUT (default bench/results/mirror-vs-skopeo.md).
# Needs: java 17, the built jar (mvn -B -q -ntp package -DskipTests), docker-registry, skopeo,
# jq, curl, openssl, python3; /usr/bin/time optional (apt-get install -y time).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
N="${N:-3}"
MIRROR_JAVA_OPTS="${MIRROR_JAVA_OPTS:--Xmx128m}"
OUT="${OUT:-$here/results/mirror-vs-skopeo.md}"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/bench-mirror.XXXXXX")"
. "$here/lib.sh"
trap bench_cleanup EXIT
trap 'exit 130' INT TERM
need_tools java docker-registry skopeo jq curl openssl python3 sha256sum
[ -s "$JAR" ] || die "no jar at $JAR: run mvn -B -q -ntp package -DskipTests"
[[ "$N" =~ ^[1-9][0-9]*$ ]] && [ "$N" -le 20 ] || die "N must be 1..20"

UP_PORT="$(free_port)"; UP="127.0.0.1:$UP_PORT"
start_registry upstream "$UP_PORT" "$WORK/upstream"
build_image "$WORK/layout"
push_image "$WORK/layout" "$UP" bench/big:1
rm -rf "$WORK/layout"
SRC="$UP/bench/big:1"

# run_mirror I -> sets T_MIRROR, D_MIRROR (in-process duration), RSS_MIRROR (KiB)
run_mirror() {
  local i="$1" data="$WORK/data-$i" t0 t1 rc=0
  rm -rf "$data"
  sync  # flush earlier runs' dirty pages outside the clock
  t0="$(now)"
  if [ -x /usr/bin/time ]; then
    /usr/bin/time -v -o "$WORK/time-$i.txt" java $MIRROR_JAVA_OPTS -jar "$JAR" --data "$data" \
      --insecure-registry "$UP" mirror "$SRC" --json > "$WORK/mirror-$i.out" 2> "$WORK/mirror-$i.err" || rc=$?
    t1="$(now)"
    RSS_MIRROR="$(awk -F': ' '/Maximum resident set size/{print $2}' "$WORK/time-$i.txt")"
    CPU_MIRROR="$(awk -F': ' '/User time/{u=$2} /System time/{s=$2} END{printf "%.2f", u+s}' "$WORK/time-$i.txt")"
  else
    java $MIRROR_JAVA_OPTS -jar "$JAR" --data "$data" --insecure-registry "$UP" mirror "$SRC" --json \
      > "$WORK/mirror-$i.out" 2> "$WORK/mirror-$i.err" &
    local pid=$! hwm=0 v
    track_pid "$pid"
    while kill -0 "$pid" 2>/dev/null; do
      v="$(awk '/VmHWM/{print $2}' "/proc/$pid/status" 2>/dev/null || true)"
      [ -n "$v" ] && [ "$v" -gt "$hwm" ] && hwm="$v"
      sleep 0.05
    done
    wait "$pid" || rc=$?
    t1="$(now)"
    RSS_MIRROR="$hwm"
    CPU_MIRROR="n/a"
  fi
  [ "$rc" = 0 ] || { cat "$WORK/mirror-$i.out" "$WORK/mirror-$i.err" >&2; die "image-mirror mirror failed (exit $rc)"; }
  # the mirror's own duration (durationMs of --json): the copy without JVM start and exit
  D_MIRROR="$(jq -r '.durationMs / 1000 | . * 100 | round / 100' "$WORK/mirror-$i.out" 2>/dev/null || echo n/a)"
  local stored="$data/blobs/sha256/${IMAGE_LAYER_DIGEST:7:2}/${IMAGE_LAYER_DIGEST#sha256:}"
  [ "$(stat -c %s "$stored" 2>/dev/null || echo 0)" = "$IMAGE_LAYER_SIZE" ] \
    || log "warning: layer not found at $stored after mirror run $i"
  T_MIRROR="$(elapsed "$t0" "$t1")"
  rm -rf "$data"
}

# run_skopeo I -> sets T_SKOPEO
run_skopeo() {
  local i="$1" port t0 t1
  port="$(free_port)"
  start_registry "dest-$i" "$port" "$WORK/dest-$i"
  sync
  t0="$(now)"
  skopeo copy -q --src-tls-verify=false --dest-tls-verify=false "docker://$SRC" \
    "docker://127.0.0.1:$port/bench/big:1" > "$WORK/skopeo-$i.out" 2>&1 \
    || { cat "$WORK/skopeo-$i.out" >&2; die "skopeo copy failed"; }
  t1="$(now)"
  T_SKOPEO="$(elapsed "$t0" "$t1")"
  stop_pid "$REG_PID"
  rm -rf "$WORK/dest-$i"
}

declare -a tm td tc ts rss
for ((i = 1; i <= N; i++)); do
  if ((i % 2)); then
    run_mirror "$i"; run_skopeo "$i"
  else
    run_skopeo "$i"; run_mirror "$i"
  fi
  tm+=("$T_MIRROR"); td+=("$D_MIRROR"); tc+=("$CPU_MIRROR"); ts+=("$T_SKOPEO"); rss+=("$RSS_MIRROR")
  log "run $i/$N: image-mirror ${T_MIRROR}s (in-process ${D_MIRROR}s, peak RSS ${RSS_MIRROR} KiB), skopeo ${T_SKOPEO}s"
done

med_m="$(median "${tm[@]}")"; med_s="$(median "${ts[@]}")"
max_rss="$(printf '%s\n' "${rss[@]}" | sort -n | tail -1)"
speedup="$(ratio "$med_s" "$med_m")"
target="$(awk -v r="$speedup" 'BEGIN{print (r >= 2.0) ? "met" : "missed"}')"
mkdir -p "$(dirname "$OUT")"
{
  echo "### mirror vs skopeo — $(date -u +%Y-%m-%dT%H:%MZ)"
  echo
  echo "Image: 1 layer, $IMAGE_LAYER_SIZE bytes (${LAYER_MIB} MiB incompressible payload), $N runs each, interleaved."
  echo
  echo "| tool | runs (s) | median wall (s) | peak RSS |"
  echo "| --- | --- | --- | --- |"
  echo "| image-mirror mirror ($MIRROR_JAVA_OPTS) → local store | ${tm[*]} | $med_m | $((max_rss / 1024)) MiB (max of runs) |"
  echo "| skopeo copy registry → registry | ${ts[*]} | $med_s | – |"
  echo "| (image-mirror in-process \`durationMs\`, without JVM start/exit) | ${td[*]} | $(median "${td[@]}") | – |"
  echo "| (image-mirror CPU user+sys, s) | ${tc[*]} | $(median "${tc[@]}") | – |"
  echo
  echo "Ratio skopeo / image-mirror: **${speedup}x** (target ≥ 2x: $target)."
  echo
  machine_info
} | tee "$OUT"
