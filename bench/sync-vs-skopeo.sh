#!/usr/bin/env bash
# Benchmark (issue 11): `image-mirror sync` vs `skopeo sync` over a 200-tag repository.
#
#   bench/sync-vs-skopeo.sh                 # 200 tags, 10 moved
#   TAGS=100 MOVED=5 OUT=/tmp/r.md bench/sync-vs-skopeo.sh
#
# One local upstream docker-registry (access log on) holds bench/many with $TAGS tags of one small
# image. Both tools first copy everything once (not measured); then, measured: (1) a no-op sync
# (nothing changed upstream) and (2) a sync after $MOVED tags were moved to another image. For each:
# wall time, and the requests the upstream saw, by method and kind (tag list, manifest, blob).
# image-mirror runs `sync <rule>` (list, HEAD per tag, copy what changed) into a local store;
# skopeo runs `sync --src yaml` (Debian's skopeo, every tag by an empty tag list) into a second
# docker-registry. Prints a Markdown table and writes it to $OUT (default
# bench/results/sync-vs-skopeo.md). Needs: java 17, the built jar, docker-registry, skopeo, jq,
# curl, openssl, python3.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
TAGS="${TAGS:-200}"
MOVED="${MOVED:-10}"
LAYER_MIB="${LAYER_MIB:-1}"
OUT="${OUT:-$here/results/sync-vs-skopeo.md}"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/bench-sync.XXXXXX")"
. "$here/lib.sh"
trap bench_cleanup EXIT
trap 'exit 130' INT TERM
need_tools java docker-registry skopeo jq curl openssl python3 sha256sum
[ -s "$JAR" ] || die "no jar at $JAR: run mvn -B -q -ntp package -DskipTests"
[[ "$TAGS" =~ ^[1-9][0-9]*$ ]] && [[ "$MOVED" =~ ^[0-9]+$ ]] && [ "$MOVED" -le "$TAGS" ] || die "bad TAGS/MOVED"

UP_PORT="$(free_port)"; UP="127.0.0.1:$UP_PORT"
start_registry upstream "$UP_PORT" "$WORK/upstream"
UPLOG="$WORK/upstream.access.log"
SEED=sync-a build_image "$WORK/a"; A_DIGEST="$IMAGE_MANIFEST_DIGEST"
SEED=sync-b build_image "$WORK/b"
log "pushing $TAGS tags"
for ((t = 1; t <= TAGS; t++)); do push_image "$WORK/a" "$UP" "bench/many:1.0.$t"; done

# requests FROM_LINE -> "GET tags/list, HEAD manifests, GET manifests, blob requests" seen after FROM_LINE
requests() {
  tail -n +"$(($1 + 1))" "$UPLOG" | awk '
    $6 ~ /^"(GET|HEAD)$/ {
      m = substr($6, 2); p = $7
      if (p ~ /\/tags\/list/) tl++
      else if (p ~ /\/manifests\// && m == "HEAD") mh++
      else if (p ~ /\/manifests\//) mg++
      else if (p ~ /\/blobs\//) b++
      n++
    }
    END { printf "%d|%d|%d|%d|%d\n", tl, mh, mg, b, n }'
}

# image-mirror: a config with the upstream and the rule; the first sync copies everything
DATA="$WORK/mirror-data"
cat > "$WORK/mirror.yaml" <<YAML
upstreams:
  - name: $UP
    endpoint: http://$UP
    insecure: true
rules:
  - name: many
    source: $UP/bench/many
    schedule: rate(1 hour)
YAML
mirror_sync() { java -jar "$JAR" --config "$WORK/mirror.yaml" --data "$DATA" sync many > "$WORK/mirror-$1.out" 2>&1 \
  || { cat "$WORK/mirror-$1.out" >&2; die "image-mirror sync failed"; }; }

# skopeo: a YAML source naming every tag of the repository, into a second registry
DEST_PORT="$(free_port)"
start_registry dest "$DEST_PORT" "$WORK/dest"
cat > "$WORK/skopeo.yaml" <<YAML
$UP:
  tls-verify: false
  images:
    bench/many: []
YAML
skopeo_sync() { skopeo sync --src yaml --dest docker --dest-tls-verify=false "$WORK/skopeo.yaml" "127.0.0.1:$DEST_PORT/mirror" \
  > "$WORK/skopeo-$1.out" 2>&1 || { cat "$WORK/skopeo-$1.out" >&2; die "skopeo sync failed"; }; }

log "initial copies (not measured)"
mirror_sync initial
skopeo_sync initial

# measure NAME CMD... -> sets T and R (requests)
measure() {
  local name="$1" from t0 t1; shift
  from="$(lines "$UPLOG")"
  t0="$(now)"; "$@" "$name"; t1="$(now)"
  sleep 0.5  # the registry writes its access log line after answering
  T="$(elapsed "$t0" "$t1")"; R="$(requests "$from")"
}

declare -A wall req
# the planner's own duration (list + HEADs + queueing), without JVM start and store opening
planned() { sed -n 's/^many: .* in \([0-9.]*\)s$/\1/p' "$WORK/mirror-$1.out"; }
measure noop-mirror mirror_sync; wall[noop-mirror]="$T"; req[noop-mirror]="$R"
measure noop-skopeo skopeo_sync; wall[noop-skopeo]="$T"; req[noop-skopeo]="$R"
log "moving $MOVED tags"
for ((t = 1; t <= MOVED; t++)); do push_image "$WORK/b" "$UP" "bench/many:1.0.$t"; done
measure moved-mirror mirror_sync; wall[moved-mirror]="$T"; req[moved-mirror]="$R"
measure moved-skopeo skopeo_sync; wall[moved-skopeo]="$T"; req[moved-skopeo]="$R"

grep -q "many: $TAGS listed, $TAGS selected, $TAGS unchanged, 0 copied" "$WORK/mirror-noop-mirror.out" \
  || log "warning: the no-op image-mirror run did not report $TAGS unchanged (see $WORK/mirror-noop-mirror.out)"
grep -q "many: $TAGS listed, $TAGS selected, $((TAGS - MOVED)) unchanged, $MOVED copied" "$WORK/mirror-moved-mirror.out" \
  || log "warning: the moved image-mirror run did not report $MOVED copied (see $WORK/mirror-moved-mirror.out)"

row() {
  local key="$1" label="$2"
  IFS='|' read -r tl mh mg b n <<< "${req[$key]}"
  echo "| $label | ${wall[$key]} | $tl | $mh | $mg | $b | $n |"
}
noop_ratio="$(ratio "${wall[noop-skopeo]}" "${wall[noop-mirror]}")"
IFS='|' read -r _ _ _ _ noop_n <<< "${req[noop-mirror]}"
mkdir -p "$(dirname "$OUT")"
{
  echo "### sync vs skopeo sync — $(date -u +%Y-%m-%dT%H:%MZ)"
  echo
  echo "Repository: $TAGS tags of one image (${LAYER_MIB} MiB layer); moved: $MOVED tags to another image."
  echo "Upstream requests counted in the upstream registry's access log (GET/HEAD)."
  echo
  echo "| run | wall (s) | GET tags/list | HEAD manifest | GET manifest | blob requests | all |"
  echo "| --- | --- | --- | --- | --- | --- | --- |"
  row noop-mirror "no-op: image-mirror sync"
  row noop-skopeo "no-op: skopeo sync"
  row moved-mirror "$MOVED moved: image-mirror sync"
  row moved-skopeo "$MOVED moved: skopeo sync"
  echo
  echo "No-op: image-mirror made $noop_n upstream requests for $TAGS tags (target: at most one per tag"
  echo "plus the list pages); skopeo / image-mirror wall time **${noop_ratio}x** (target ≥ 5x)."
  echo "image-mirror's wall time includes JVM start and opening the store; the planner itself (list,"
  echo "HEADs, decisions; what serve and the SyncPlanner function pay per pass) took $(planned noop-mirror) s"
  echo "in the no-op run (skopeo / planner: **$(ratio "${wall[noop-skopeo]}" "$(planned noop-mirror)")x**) and"
  echo "$(planned moved-mirror) s to plan the moved run (its 10 copies ran after it, inside the wall time)."
  echo
  machine_info
} | tee "$OUT"
