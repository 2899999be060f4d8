#!/usr/bin/env bash
# Benchmark (issue 11): `image-mirror sync` vs `skopeo sync` over a 200-tag repository.
#
#   bench/sync-vs-skopeo.sh                 # 200 tags, 10 moved
#   TAGS=100 MOVED=5 N=5 OUT=/tmp/r.md bench/sync-vs-skopeo.sh
#
# One local upstream docker-registry (access log on) holds bench/many with $TAGS tags of one small
# image. Both tools first copy everything once (not measured); then, measured: (1) a no-op sync
# (nothing changed upstream; $N interleaved rounds, medians) and (2) a sync after $MOVED tags were
# moved to another image. For each: wall time, and the requests the upstream saw, by method and
# kind (tag list, manifest, blob). image-mirror runs `sync <rule>` (list, HEAD per tag, copy what
# changed) twice each time, as `java -jar` and as `bin/image-mirror` (the same jar with its AppCDS
# archive, made by its unmeasured first run), into two local stores; and, third, as the pass a running
# `serve` makes on its schedule: one `serve` (same YAML, its own store, started once after an unmeasured
# `sync` made the rule not due for an hour, so its own timer never runs it here) is asked
# `POST /v1/rules/many/runs` with curl (warmed by 2 unmeasured POSTs); the POST answers once the pass
# is planned, its copies run in serve after it (the moved row waits for them too);
# skopeo runs `sync --src yaml` (Debian's skopeo, every tag by an empty tag list) into a second
# docker-registry. Prints a Markdown table and writes it to $OUT (default
# bench/results/sync-vs-skopeo.md). Needs: java 17, the built jar, docker-registry, skopeo, jq,
# curl, openssl, python3.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
TAGS="${TAGS:-200}"
MOVED="${MOVED:-10}"
N="${N:-3}"
LAYER_MIB="${LAYER_MIB:-1}"
OUT="${OUT:-$here/results/sync-vs-skopeo.md}"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/bench-sync.XXXXXX")"
. "$here/lib.sh"
trap bench_cleanup EXIT
trap 'exit 130' INT TERM
need_tools java docker-registry skopeo jq curl openssl python3 sha256sum
[ -s "$JAR" ] || die "no jar at $JAR: run mvn -B -q -ntp package -DskipTests"
[[ "$TAGS" =~ ^[1-9][0-9]*$ ]] && [[ "$MOVED" =~ ^[0-9]+$ ]] && [ "$MOVED" -le "$TAGS" ] || die "bad TAGS/MOVED"
[[ "$N" =~ ^[1-9]$ ]] || die "N must be 1..9"

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
# the same jar through bin/image-mirror (its AppCDS archive of `sync`, made by its first run), into
# a second store so that both see the same changes
export IMAGE_MIRROR_JAR="$JAR" IMAGE_MIRROR_CDS_DIR="$WORK/cds"
launcher_sync() { "$REPO_DIR/functions/local/bin/image-mirror" --config "$WORK/mirror.yaml" --data "$DATA-launcher" sync many \
  > "$WORK/launcher-$1.out" 2>&1 || { cat "$WORK/launcher-$1.out" >&2; die "bin/image-mirror sync failed"; }; }
# a running serve over a third store: the rule run now through its API, as its timer would run it
SERVE_PORT="$(free_port)"
SERVE_URL="http://127.0.0.1:$SERVE_PORT"
serve_sync() { curl -fsS -X POST -H 'Content-Type: application/json' -d '{}' "$SERVE_URL/v1/rules/many/runs" \
  > "$WORK/serve-$1.out" 2>&1 || { cat "$WORK/serve-$1.out" >&2; die "POST /v1/rules/many/runs failed"; }; }
# the run's own duration (list + HEADs + queueing) from the answer: finished - started
serve_planned() { python3 -c 'import json, sys
from datetime import datetime
r = json.load(open(sys.argv[1]))
t = lambda s: datetime.fromisoformat(s.replace("Z", "+00:00"))
print("%.2f" % (t(r["finished"]) - t(r["started"])).total_seconds())' "$WORK/serve-$1.out"; }
# waits until every copy job of the run in serve-NAME.out has finished (the POST does not wait for them)
serve_copies_done() {
  local id jobs i
  id="$(jq -r .id "$WORK/serve-$1.out")"; jobs="$(jq '.jobs | length' "$WORK/serve-$1.out")"
  for ((i = 0; i < 2400; i++)); do  # at most a few minutes
    curl -fsS "$SERVE_URL/v1/rules/many/runs" | jq -e --arg id "$id" --argjson n "$jobs" \
      '.runs[] | select(.id == $id) | .jobsFinished + .jobsFailed == $n' > /dev/null && return 0
    sleep 0.05
  done
  die "the copies of serve's run $id did not finish"
}

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
launcher_sync initial
skopeo_sync initial
# serve's store gets its initial copy from the CLI: the rule is then not due for an hour, so serve's
# own timer (a pass at start and every minute) finds nothing due while we measure (checked below)
java -jar "$JAR" --config "$WORK/mirror.yaml" --data "$DATA-serve" sync many > "$WORK/serve-initial.out" 2>&1 \
  || { cat "$WORK/serve-initial.out" >&2; die "image-mirror sync (serve's store) failed"; }
start_serve "$DATA-serve" "$SERVE_PORT" "$UP" "$WORK/mirror.yaml"
serve_sync warm-1
serve_sync warm-2

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
planned() { sed -n 's/^many: .* in \([0-9.]*\)s$/\1/p' "$WORK/$1.out"; }
# no-op: N interleaved rounds of the three; medians (requests are the same every round)
declare -A noop_walls noop_plans
for ((i = 1; i <= N; i++)); do
  for v in mirror launcher serve skopeo; do
    measure "noop-$v" "${v}_sync"; noop_walls[$v]+=" $T"; req[noop-$v]="$R"
    case "$v" in
      skopeo) ;;
      serve) noop_plans[$v]+=" $(serve_planned noop-serve)" ;;
      *) noop_plans[$v]+=" $(planned "$v-noop-$v")" ;;
    esac
  done
done
for v in mirror launcher serve skopeo; do
  # shellcheck disable=SC2086 # space-separated numbers
  wall[noop-$v]="$(median ${noop_walls[$v]})"
done
log "moving $MOVED tags"
for ((t = 1; t <= MOVED; t++)); do push_image "$WORK/b" "$UP" "bench/many:1.0.$t"; done
measure moved-mirror mirror_sync; wall[moved-mirror]="$T"; req[moved-mirror]="$R"
measure moved-launcher launcher_sync; wall[moved-launcher]="$T"; req[moved-launcher]="$R"
measure moved-skopeo skopeo_sync; wall[moved-skopeo]="$T"; req[moved-skopeo]="$R"
# serve: the POST's wall is the planning; then its copies run in serve, counted once they are done
from="$(lines "$UPLOG")"
t0="$(now)"; serve_sync moved-serve; t1="$(now)"; serve_copies_done moved-serve; t2="$(now)"
sleep 0.5  # the registry writes its access log line after answering
wall[moved-serve]="$(elapsed "$t0" "$t1")"; req[moved-serve]="$(requests "$from")"
wall[moved-serve-copies]="$(elapsed "$t0" "$t2")"

grep -q "many: $TAGS listed, $TAGS selected, $TAGS unchanged, 0 copied" "$WORK/mirror-noop-mirror.out" \
  || log "warning: the no-op image-mirror run did not report $TAGS unchanged (see $WORK/mirror-noop-mirror.out)"
grep -q "many: $TAGS listed, $TAGS selected, $((TAGS - MOVED)) unchanged, $MOVED copied" "$WORK/mirror-moved-mirror.out" \
  || log "warning: the moved image-mirror run did not report $MOVED copied (see $WORK/mirror-moved-mirror.out)"
jq -e --argjson t "$TAGS" '.tags.listed == $t and .tags.unchanged == $t and (.jobs | length) == 0' \
  "$WORK/serve-noop-serve.out" > /dev/null \
  || log "warning: serve's no-op run did not report $TAGS unchanged (see $WORK/serve-noop-serve.out)"
jq -e --argjson m "$MOVED" '.tags.changed == $m and .jobsFinished + .jobsFailed == $m and .jobsFailed == 0' \
  <(curl -fsS "$SERVE_URL/v1/rules/many/runs" | jq '.runs[0]') > /dev/null \
  || log "warning: serve's moved run did not copy $MOVED tags (see GET $SERVE_URL/v1/rules/many/runs)"
# serve's own timer must not have run the rule: its runs are the initial sync, the 2 warm-ups, N no-ops
# and the moved one, each id one we got back (or the initial's)
serve_runs="$(curl -fsS "$SERVE_URL/v1/rules/many/runs" | jq '.runs | length')"
[ "$serve_runs" = "$((1 + 2 + N + 1))" ] \
  || log "warning: serve recorded $serve_runs runs of the rule, expected $((1 + 2 + N + 1)): its timer ran it too"

row() {
  local key="$1" label="$2"
  IFS='|' read -r tl mh mg b n <<< "${req[$key]}"
  echo "| $label | ${wall[$key]} | $tl | $mh | $mg | $b | $n |"
}
noop_ratio="$(ratio "${wall[noop-skopeo]}" "${wall[noop-mirror]}")"
noop_ratio_l="$(ratio "${wall[noop-skopeo]}" "${wall[noop-launcher]}")"
noop_ratio_s="$(ratio "${wall[noop-skopeo]}" "${wall[noop-serve]}")"
IFS='|' read -r _ _ _ _ noop_n_s <<< "${req[noop-serve]}"
# shellcheck disable=SC2086 # space-separated numbers
plan_noop_s="$(median ${noop_plans[serve]})"
IFS='|' read -r _ _ _ _ noop_n <<< "${req[noop-mirror]}"
# shellcheck disable=SC2086 # space-separated numbers
plan_noop="$(median ${noop_plans[mirror]} ${noop_plans[launcher]})"
mkdir -p "$(dirname "$OUT")"
{
  echo "### sync vs skopeo sync — $(date -u +%Y-%m-%dT%H:%MZ)"
  echo
  echo "Repository: $TAGS tags of one image (${LAYER_MIB} MiB layer); moved: $MOVED tags to another image."
  echo "Upstream requests counted in the upstream registry's access log (GET/HEAD)."
  echo
  echo "| run | wall (s) | GET tags/list | HEAD manifest | GET manifest | blob requests | all |"
  echo "| --- | --- | --- | --- | --- | --- | --- |"
  row noop-mirror "no-op: \`java -jar … sync\` (median of $N)"
  row noop-launcher "no-op: \`bin/image-mirror sync\` (median of $N)"
  row noop-serve "no-op: \`POST /v1/rules/many/runs\` to a running serve (median of $N)"
  row noop-skopeo "no-op: skopeo sync (median of $N)"
  row moved-mirror "$MOVED moved: \`java -jar … sync\`"
  row moved-launcher "$MOVED moved: \`bin/image-mirror sync\`"
  row moved-serve "$MOVED moved: \`POST …/runs\` to serve (answer after planning; copies done at ${wall[moved-serve-copies]} s)"
  row moved-skopeo "$MOVED moved: skopeo sync"
  echo
  echo "No-op: image-mirror made $noop_n upstream requests for $TAGS tags (target: at most one per tag"
  echo "plus the list pages); skopeo / image-mirror wall time **${noop_ratio}x** with \`java -jar\`,"
  echo "**${noop_ratio_l}x** with \`bin/image-mirror\` (target ≥ 5x). image-mirror's wall time includes JVM"
  echo "start and opening the store; the planner itself (list, HEADs, decisions; what serve and the"
  echo "SyncPlanner function pay per pass) took $plan_noop s (median) in the no-op runs (skopeo / planner:"
  echo "**$(ratio "${wall[noop-skopeo]}" "$plan_noop")x**) and $(planned mirror-moved-mirror) s to plan the moved run"
  echo "(its $MOVED copies ran after it, inside the wall time)."
  echo
  echo "Scheduled pass in a running serve: skopeo / ours = **${noop_ratio_s}x** (target ≥ 5x): the wall of"
  echo "\`curl -X POST /v1/rules/many/runs\` to a warm serve, $noop_n_s upstream requests; the run itself took"
  echo "$plan_noop_s s (median) by its recorded start and finish. The moved POST answered after planning"
  echo "($(serve_planned moved-serve) s by the run's record); its $MOVED copies then ran in serve, done"
  echo "${wall[moved-serve-copies]} s after the POST started (its row counts their upstream requests)."
  echo "Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)."
  echo
  machine_info
} | tee "$OUT"
