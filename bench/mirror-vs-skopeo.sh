#!/usr/bin/env bash
# Benchmark (issues 5, 16): `image-mirror mirror` vs `skopeo copy` registry -> registry, and both
# against the machine's floor measured in the same run.
#
#   bench/mirror-vs-skopeo.sh                         # N=3 runs each, interleaved, both images
#   N=5 IMAGES=single LAYER_MIB=256 OUT=/tmp/r.md bench/mirror-vs-skopeo.sh
#
# One local upstream docker-registry holds two images (IMAGES selects them, default "single layers20"):
#   single    one layer of LAYER_MIB MiB (default 512), incompressible;
#   layers20  20 layers of LAYERS20_MIB MiB (default 60 45 33 25 18 14 10 8 6 5 4 3 3 2 2 2 1 1 1 1).
# Each run, per image, in an order that alternates per run: (1) the floor: curl of the image's layer
# blobs from the upstream to /dev/null (up to 4 at once), sha256sum of the registry's blob files,
# `dd conv=fsync` of them into one file, and `java -Xmx128m -version` (JVM start); (2) image-mirror
# mirrors it into a fresh local store (dir + SQLite) with MIRROR_JAVA_OPTS (default -Xmx128m): wall
# time (`sync` first, outside the clock), CPU, peak RSS via /usr/bin/time -v (or VmHWM sampling), and
# the upstream blob GETs it made (from the upstream's access log: ranged parts of one blob, 206s,
# count as one fetch of that blob); (3) skopeo copies it to a fresh second docker-registry.
# Reported per image: skopeo / image-mirror (target >= 2) and image-mirror / floor, where floor =
# max(curl, sha256sum, dd) + JVM start (target <= 1.3). Prints Markdown and writes it to $OUT
# (default bench/results/mirror-vs-skopeo.md). The load average is printed with every run.
# MIRROR_WITH=launcher runs image-mirror through functions/local/bin/image-mirror (the same jar with
# its AppCDS archive of `mirror`, made by one unmeasured run first) instead of `java -jar`.
# BEFORE_JAR=path/to/image-mirror.jar (with MIRROR_WITH=jar) also mirrors each image with that jar in
# every run, right before or after the current one (the order alternating), and reports it as a
# "before" row: a change measured against its parent in the same run, next to skopeo.
# Needs: java 17, the built jar (mvn -B -q -ntp package -DskipTests), docker-registry, skopeo,
# jq, curl, openssl, python3; /usr/bin/time optional (apt-get install -y time).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
N="${N:-3}"
MIRROR_JAVA_OPTS="${MIRROR_JAVA_OPTS:--Xmx128m}"
MIRROR_WITH="${MIRROR_WITH:-jar}"
BEFORE_JAR="${BEFORE_JAR:-}"
IMAGES="${IMAGES:-single layers20}"
LAYERS20_MIB="${LAYERS20_MIB:-60 45 33 25 18 14 10 8 6 5 4 3 3 2 2 2 1 1 1 1}"
OUT="${OUT:-$here/results/mirror-vs-skopeo.md}"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/bench-mirror.XXXXXX")"
. "$here/lib.sh"
trap bench_cleanup EXIT
trap 'exit 130' INT TERM
need_tools java docker-registry skopeo jq curl openssl python3 sha256sum dd
[ -s "$JAR" ] || die "no jar at $JAR: run mvn -B -q -ntp package -DskipTests"
[[ "$N" =~ ^[1-9][0-9]*$ ]] && [ "$N" -le 20 ] || die "N must be 1..20"

UP_PORT="$(free_port)"; UP="127.0.0.1:$UP_PORT"
start_registry upstream "$UP_PORT" "$WORK/upstream"
UPLOG="$WORK/upstream.access.log"
declare -A REPO DIGESTS BYTES LAYER_COUNT
for img in $IMAGES; do
  case "$img" in
    single) sizes=("$LAYER_MIB") ;;
    layers20) read -r -a sizes <<< "$LAYERS20_MIB" ;;
    *) die "unknown image $img (single, layers20)" ;;
  esac
  build_image "$WORK/layout-$img" "${sizes[@]}"
  push_image "$WORK/layout-$img" "$UP" "bench/$img:1"
  rm -rf "$WORK/layout-$img"
  REPO[$img]="bench/$img"; DIGESTS[$img]="${IMAGE_LAYER_DIGESTS[*]}"; BYTES[$img]="$IMAGE_LAYERS_BYTES"
  LAYER_COUNT[$img]="${#sizes[@]}"
done

case "$MIRROR_WITH" in
  jar) MIRROR_CMD=(java $MIRROR_JAVA_OPTS -jar "$JAR"); MIRROR_LABEL="image-mirror mirror ($MIRROR_JAVA_OPTS)" ;;
  launcher)
    MIRROR_CMD=(env JAVA_OPTS="$MIRROR_JAVA_OPTS" IMAGE_MIRROR_JAR="$JAR" IMAGE_MIRROR_CDS_DIR="$WORK/cds"
      bash "$REPO_DIR/functions/local/bin/image-mirror")
    MIRROR_LABEL="image-mirror mirror via functions/local/bin/image-mirror (AppCDS, $MIRROR_JAVA_OPTS)"
    for img in $IMAGES; do  # the archive of `mirror`, made by its first run (not measured)
      "${MIRROR_CMD[@]}" --data "$WORK/data-warmup" --insecure-registry "$UP" mirror "$UP/${REPO[$img]}:1" --json \
        > /dev/null 2>&1 || die "the launcher's first run failed"
      rm -rf "$WORK/data-warmup"
    done
    ls "$WORK"/cds/*.jsa > /dev/null 2>&1 || die "the launcher made no archive in $WORK/cds" ;;
  *) die "MIRROR_WITH must be jar or launcher" ;;
esac
if [ -n "$BEFORE_JAR" ]; then
  [ "$MIRROR_WITH" = jar ] || die "BEFORE_JAR needs MIRROR_WITH=jar"
  [ -s "$BEFORE_JAR" ] || die "no jar at BEFORE_JAR=$BEFORE_JAR"
  BEFORE_CMD=(java $MIRROR_JAVA_OPTS -jar "$BEFORE_JAR")
fi

load() { cut -d' ' -f1 /proc/loadavg; }
blob_file() { echo "$WORK/upstream/docker/registry/v2/blobs/sha256/${1:7:2}/${1#sha256:}/data"; }

# run_floor IMG -> sets F_CURL F_SHA F_DD F_JVM (seconds)
run_floor() {
  local img="$1" d t0 t1 files=() args=()
  for d in ${DIGESTS[$img]}; do
    files+=("$(blob_file "$d")")
    args+=(-o /dev/null "http://$UP/v2/${REPO[$img]}/blobs/$d")
  done
  cat "${files[@]}" > /dev/null  # the upstream serves from the page cache in every measurement
  t0="$(now)"; curl -sf --no-progress-meter -Z --parallel-max 4 "${args[@]}"; t1="$(now)"; F_CURL="$(elapsed "$t0" "$t1")"
  t0="$(now)"; sha256sum "${files[@]}" > /dev/null; t1="$(now)"; F_SHA="$(elapsed "$t0" "$t1")"
  sync
  t0="$(now)"; cat "${files[@]}" | dd of="$WORK/floor.bin" bs=1M conv=fsync status=none; t1="$(now)"
  F_DD="$(elapsed "$t0" "$t1")"; rm -f "$WORK/floor.bin"
  t0="$(now)"; java $MIRROR_JAVA_OPTS -version 2> /dev/null; t1="$(now)"; F_JVM="$(elapsed "$t0" "$t1")"
}

# run_mirror IMG I [before] -> sets T_MIRROR, D_MIRROR (in-process duration), CPU_MIRROR, RSS_MIRROR (KiB),
# GETS_MIRROR; with "before", of BEFORE_JAR
run_mirror() {
  local img="$1" i="$2" data="$WORK/data-$1-$2" t0 t1 rc=0 mark src="$UP/${REPO[$1]}:1"
  local MIRROR_CMD=("${MIRROR_CMD[@]}")
  [ "${3:-}" = before ] && MIRROR_CMD=("${BEFORE_CMD[@]}")
  rm -rf "$data"
  sync  # flush earlier runs' dirty pages outside the clock
  mark="$(lines "$UPLOG")"
  t0="$(now)"
  if [ -x /usr/bin/time ]; then
    /usr/bin/time -v -o "$WORK/time-$i.txt" "${MIRROR_CMD[@]}" --data "$data" \
      --insecure-registry "$UP" mirror "$src" --json > "$WORK/mirror-$i.out" 2> "$WORK/mirror-$i.err" || rc=$?
    t1="$(now)"
    RSS_MIRROR="$(awk -F': ' '/Maximum resident set size/{print $2}' "$WORK/time-$i.txt")"
    CPU_MIRROR="$(awk -F': ' '/User time/{u=$2} /System time/{s=$2} END{printf "%.2f", u+s}' "$WORK/time-$i.txt")"
  else
    "${MIRROR_CMD[@]}" --data "$data" --insecure-registry "$UP" mirror "$src" --json \
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
  local d stored
  for d in ${DIGESTS[$img]}; do
    stored="$data/blobs/sha256/${d:7:2}/${d#sha256:}"
    [ "$(stat -c %s "$stored" 2>/dev/null || echo 0)" = "$(stat -c %s "$(blob_file "$d")")" ] \
      || log "warning: layer $d not stored whole after mirror run $i"
  done
  read -r g b p _ < <(blob_get_stats "$UPLOG" "$mark")
  GETS_MIRROR="$g/$b/$p"
  T_MIRROR="$(elapsed "$t0" "$t1")"
  rm -rf "$data"
}

# run_skopeo IMG I -> sets T_SKOPEO
run_skopeo() {
  local img="$1" i="$2" port t0 t1
  port="$(free_port)"
  start_registry "dest-$img-$i" "$port" "$WORK/dest-$i"
  sync
  t0="$(now)"
  skopeo copy -q --src-tls-verify=false --dest-tls-verify=false "docker://$UP/${REPO[$img]}:1" \
    "docker://127.0.0.1:$port/${REPO[$img]}:1" > "$WORK/skopeo-$i.out" 2>&1 \
    || { cat "$WORK/skopeo-$i.out" >&2; die "skopeo copy failed"; }
  t1="$(now)"
  T_SKOPEO="$(elapsed "$t0" "$t1")"
  stop_pid "$REG_PID"
  rm -rf "$WORK/dest-$i"
}

mkdir -p "$(dirname "$OUT")"
{
  echo "### mirror vs skopeo — $(date -u +%Y-%m-%dT%H:%MZ)"
  echo
  echo "$N runs per image, interleaved (odd runs: floor, image-mirror, skopeo; even runs: skopeo, image-mirror, floor)."
  echo "Floor = max(curl to /dev/null, sha256sum, dd conv=fsync) of the layer blobs + JVM start (\`java $MIRROR_JAVA_OPTS -version\`)."
  echo "Upstream blob GETs as GETs/blobs/206s: the ranged parts of one blob (206 answers) are one fetch of it."
  echo
} > "$OUT.tmp"
# before_mirror: the BEFORE_JAR run of $img, run $i, on the far side of the current one from the floor
before_mirror() {
  [ -n "$BEFORE_JAR" ] || return 0
  local T_MIRROR D_MIRROR CPU_MIRROR RSS_MIRROR GETS_MIRROR
  run_mirror "$img" "$i" before
  bm+=("$T_MIRROR"); bd+=("$D_MIRROR"); bc+=("$CPU_MIRROR")
}
for img in $IMAGES; do
  declare -a tm=() td=() tc=() ts=() rss=() gets=() fl=() fc=() fs=() fd=() fj=() loads=() bm=() bd=() bc=()
  for ((i = 1; i <= N; i++)); do
    loads+=("$(load)")
    if ((i % 2)); then
      run_floor "$img"; run_mirror "$img" "$i"; before_mirror; run_skopeo "$img" "$i"
    else
      run_skopeo "$img" "$i"; before_mirror; run_mirror "$img" "$i"; run_floor "$img"
    fi
    floor="$(awk -v a="$F_CURL" -v b="$F_SHA" -v c="$F_DD" -v j="$F_JVM" 'BEGIN{m=a; if (b>m) m=b; if (c>m) m=c; printf "%.2f", m+j}')"
    tm+=("$T_MIRROR"); td+=("$D_MIRROR"); tc+=("$CPU_MIRROR"); ts+=("$T_SKOPEO"); rss+=("$RSS_MIRROR"); gets+=("$GETS_MIRROR")
    fl+=("$floor"); fc+=("$F_CURL"); fs+=("$F_SHA"); fd+=("$F_DD"); fj+=("$F_JVM")
    log "$img run $i/$N (load ${loads[-1]}): image-mirror ${T_MIRROR}s (in-process ${D_MIRROR}s, CPU ${CPU_MIRROR}s, RSS ${RSS_MIRROR} KiB, GETs $GETS_MIRROR), skopeo ${T_SKOPEO}s, floor ${floor}s (curl $F_CURL sha $F_SHA dd $F_DD jvm $F_JVM)"
  done
  med_m="$(median "${tm[@]}")"; med_s="$(median "${ts[@]}")"; med_f="$(median "${fl[@]}")"
  max_rss="$(printf '%s\n' "${rss[@]}" | sort -n | tail -1)"
  speedup="$(ratio "$med_s" "$med_m")"; to_floor="$(ratio "$med_m" "$med_f")"
  t_speed="$(awk -v r="$speedup" 'BEGIN{print (r >= 2.0) ? "met" : "missed"}')"
  t_floor="$(awk -v r="$to_floor" 'BEGIN{print (r <= 1.3) ? "met" : "missed"}')"
  {
    echo "#### $img: ${LAYER_COUNT[$img]} layer(s), ${BYTES[$img]} bytes"
    echo
    echo "| what | runs (s) | median (s) | notes |"
    echo "| --- | --- | --- | --- |"
    echo "| $MIRROR_LABEL → local store | ${tm[*]} | $med_m | peak RSS $((max_rss / 1024)) MiB (max); upstream blob GETs/blobs/206s: ${gets[*]} |"
    if [ -n "$BEFORE_JAR" ]; then
      echo "| before: the same with \`$(basename "$BEFORE_JAR")\` | ${bm[*]} | $(median "${bm[@]}") | in-process ${bd[*]} (median $(median "${bd[@]}")); CPU ${bc[*]} (median $(median "${bc[@]}")); skopeo / before: $(ratio "$med_s" "$(median "${bm[@]}")")x |"
    fi
    echo "| skopeo copy registry → registry | ${ts[*]} | $med_s | |"
    echo "| floor: max(curl, sha256sum, dd) + JVM start | ${fl[*]} | $med_f | |"
    echo "| (image-mirror in-process \`durationMs\`) | ${td[*]} | $(median "${td[@]}") | without JVM start/exit |"
    echo "| (image-mirror CPU user+sys) | ${tc[*]} | $(median "${tc[@]}") | |"
    echo "| (floor: curl to /dev/null) | ${fc[*]} | $(median "${fc[@]}") | up to 4 blobs at once |"
    echo "| (floor: sha256sum) | ${fs[*]} | $(median "${fs[@]}") | |"
    echo "| (floor: dd conv=fsync) | ${fd[*]} | $(median "${fd[@]}") | |"
    echo "| (floor: JVM start) | ${fj[*]} | $(median "${fj[@]}") | |"
    echo
    echo "Load average (1 min) at the start of each run: ${loads[*]}."
    echo "skopeo / image-mirror: **${speedup}x** (target ≥ 2: $t_speed); image-mirror / floor: **${to_floor}** (target ≤ 1.3: $t_floor)."
    echo
  } >> "$OUT.tmp"
  unset tm td tc ts rss gets fl fc fs fd fj loads bm bd bc
done
machine_info >> "$OUT.tmp"
mv "$OUT.tmp" "$OUT"
cat "$OUT"
