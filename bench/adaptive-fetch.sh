#!/usr/bin/env bash
# Benchmark (issue 16): how `mirror` fetches a large blob, from a fast upstream (loopback) and from
# one whose every connection is capped (a registry's CDN as one machine sees it), with three
# `largeBlobs` policies:
#   parts     fastStream: 0     the 8 MiB parts 4 at a time from the first one (before adaptive)
#   adaptive  (the default)     the first part alone, timed: the rest as one stream if it came at
#                               100 MiB/s or more, else the other parts 4 at a time
#   stream    parallelism: 1    one stream, no ranges
#
#   bench/adaptive-fetch.sh                       # N=3 rounds, 512 MiB layer, 40 MiB/s per capped connection
#   N=5 LAYER_MIB=256 RATE_MIB=20 OUT=/tmp/a.md bench/adaptive-fetch.sh
#
# Each round runs every (upstream, policy) pair in a fresh JVM (`java -Xmx128m -jar … mirror`, a
# fresh local store), the policy order alternating per round. Reports the in-process duration
# (durationMs), wall, CPU and the upstream's blob GETs (all / 206 answers) per pair.
# Needs: java 17, the built jar (mvn -B -q -ntp package -DskipTests), docker-registry, skopeo,
# python3, curl, openssl, jq, /usr/bin/time.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
N="${N:-3}"
RATE_MIB="${RATE_MIB:-40}"
OUT="${OUT:-$here/results/adaptive-fetch.md}"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/bench-adaptive.XXXXXX")"
. "$here/lib.sh"
trap bench_cleanup EXIT
trap 'exit 130' INT TERM
need_tools java docker-registry skopeo python3 curl openssl jq /usr/bin/time
[[ "$N" =~ ^[1-9][0-9]*$ ]] && [ "$N" -le 20 ] || die "N must be 1..20"
[ -s "$JAR" ] || die "no jar at $JAR: run mvn -B -q -ntp package -DskipTests"

start_capped_upstream "$RATE_MIB"
UPLOG="$WORK/upstream.access.log"
declare -A HOST=([direct]="127.0.0.1:$UP_PORT" [capped]="127.0.0.1:$PX_PORT")

policies=(parts adaptive stream)
# config PLACE POLICY: a configuration file naming the upstream with that largeBlobs policy
config() {
  local f="$WORK/$1-$2.yml"
  {
    echo "upstreams:"
    echo "  - name: ${HOST[$1]}"
    echo "    endpoint: http://${HOST[$1]}"
    echo "    insecure: true"
    case "$2" in
      parts) echo "largeBlobs: {fastStream: 0}" ;;
      stream) echo "largeBlobs: {parallelism: 1}" ;;
    esac
  } > "$f"
  echo "$f"
}

declare -A dur wall cpu gets
for ((i = 1; i <= N; i++)); do
  order=("${policies[@]}")
  if ((i % 2 == 0)); then order=(stream adaptive parts); fi
  for place in direct capped; do
    for p in "${order[@]}"; do
      data="$WORK/data"; rm -rf "$data"; sync
      mark="$(lines "$UPLOG")"
      t0="$(now)"
      /usr/bin/time -v -o "$WORK/time.txt" java -Xmx128m -jar "$JAR" --config "$(config "$place" "$p")" \
        --data "$data" mirror "${HOST[$place]}/bench/big:1" --json > "$WORK/out.json" 2> "$WORK/err.txt" \
        || { cat "$WORK/out.json" "$WORK/err.txt" >&2; die "mirror failed ($place, $p)"; }
      t1="$(now)"
      d="$(jq -r '.durationMs / 1000 | . * 100 | round / 100' "$WORK/out.json")"
      c="$(awk -F': ' '/User time/{u=$2} /System time/{s=$2} END{printf "%.2f", u+s}' "$WORK/time.txt")"
      sleep 0.2  # the registry logs a blob GET after its body went out
      read -r g _ p206 _ < <(blob_get_stats "$UPLOG" "$mark")
      k="$place-$p"
      dur[$k]="${dur[$k]:-} $d"; wall[$k]="${wall[$k]:-} $(elapsed "$t0" "$t1")"; cpu[$k]="${cpu[$k]:-} $c"
      gets[$k]="$g/$p206"
      log "round $i: $place $p: in-process $d s, wall $(elapsed "$t0" "$t1") s, CPU $c s, blob GETs/206s $g/$p206"
      rm -rf "$data"
    done
  done
done

mkdir -p "$(dirname "$OUT")"
{
  echo "### adaptive large-blob fetch — $(date -u +%Y-%m-%dT%H:%MZ)"
  echo
  echo "\`mirror\` of one layer of $IMAGE_LAYER_SIZE bytes into a fresh local store, \`java -Xmx128m\`;"
  echo "direct: docker-registry on loopback; capped: through a proxy that caps every connection at"
  echo "$RATE_MIB MiB/s. $N rounds, policy order alternating. Medians; all runs in brackets."
  echo
  echo "| upstream | policy | in-process (s) | wall (s) | CPU (s) | blob GETs / 206s (last run) |"
  echo "| --- | --- | --- | --- | --- | --- |"
  for place in direct capped; do
    for p in "${policies[@]}"; do
      k="$place-$p"
      read -r -a a <<< "${dur[$k]}"; read -r -a b <<< "${wall[$k]}"; read -r -a c <<< "${cpu[$k]}"
      echo "| $place | $p | $(median "${a[@]}") (${a[*]}) | $(median "${b[@]}") (${b[*]}) | $(median "${c[@]}") (${c[*]}) | ${gets[$k]} |"
    done
  done
  echo
  echo "Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)."
  echo
  machine_info
} | tee "$OUT"
