#!/usr/bin/env bash
# Benchmark (issue 16): a resumable copy (the CopyWorker's path for blobs of 64 MiB and more) from an
# upstream whose every connection is capped, as a registry's CDN looks from one function: parts
# fetched with parallel ranged GETs (ResumableCopies' partsAtOnce, the CopyWorker's default 4)
# against one stream (1). The copy goes into multipart uploads that keep nothing, so the figure is
# the fetch and the in-order hash (bench/java/RangedCopyBench.java).
#
#   bench/ranged-copy.sh                          # N=3 rounds, 512 MiB layer, 40 MiB/s per connection
#   N=5 LAYER_MIB=256 RATE_MIB=20 AT_ONCE="1 2 4" OUT=/tmp/r.md bench/ranged-copy.sh
#
# One local docker-registry holds a single-layer image; bench/py/throttle_proxy.py in front of it
# caps each connection at RATE_MIB MiB/s. Each round runs every AT_ONCE value in a fresh JVM, in an
# order that alternates per round, and `curl` of the blob through the proxy (one connection: the
# cap). Needs: java 17, javac, mvn, docker-registry, python3, curl, openssl, jq.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
N="${N:-3}"
RATE_MIB="${RATE_MIB:-40}"
AT_ONCE="${AT_ONCE:-1 4}"
OUT="${OUT:-$here/results/ranged-copy.md}"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/bench-ranged.XXXXXX")"
. "$here/lib.sh"
trap bench_cleanup EXIT
trap 'exit 130' INT TERM
need_tools java javac mvn docker-registry python3 curl openssl jq
[[ "$N" =~ ^[1-9][0-9]*$ ]] && [ "$N" -le 20 ] || die "N must be 1..20"

log "compiling the core and the bench main"
( cd "$REPO_DIR" && mvn -B -ntp -q -pl functions/core -am install -DskipTests >/dev/null \
  && mvn -B -ntp -q -pl functions/core dependency:build-classpath -Dmdep.outputFile=target/bench-classpath.txt \
     -Dmdep.includeScope=runtime >/dev/null )
CP="$REPO_DIR/functions/core/target/classes:$(cat "$REPO_DIR/functions/core/target/bench-classpath.txt")"
mkdir -p "$WORK/classes"
javac -d "$WORK/classes" -cp "$CP" "$here/java/RangedCopyBench.java"

start_capped_upstream "$RATE_MIB"
PX="127.0.0.1:$PX_PORT"

declare -A runs
curls=()
read -r -a values <<< "$AT_ONCE"
for ((i = 1; i <= N; i++)); do
  order=("${values[@]}")
  if ((i % 2 == 0)); then order=(); for ((k = ${#values[@]} - 1; k >= 0; k--)); do order+=("${values[k]}"); done; fi
  for k in "${order[@]}"; do
    # as the CopyWorker runs (template.yaml): C2, and the JDK's SHA-256 for the resumable hash
    line="$(java -Xmx256m --add-opens=java.base/sun.security.provider=ALL-UNNAMED -cp "$WORK/classes:$CP" RangedCopyBench "$PX" bench/big "$IMAGE_LAYER_DIGEST" \
      "$IMAGE_LAYER_SIZE" "$k")"
    s="$(awk '{print $5}' <<< "$line")"
    runs[$k]="${runs[$k]:-} $s"
    log "round $i: $line"
  done
  t0="$(now)"; curl -sf -o /dev/null "http://$PX/v2/bench/big/blobs/$IMAGE_LAYER_DIGEST"; t1="$(now)"
  curls+=("$(elapsed "$t0" "$t1")")
done

mkdir -p "$(dirname "$OUT")"
{
  echo "### resumable copy from a capped upstream — $(date -u +%Y-%m-%dT%H:%MZ)"
  echo
  echo "One layer of $IMAGE_LAYER_SIZE bytes through a proxy that caps every connection at $RATE_MIB MiB/s;"
  echo "16 MiB parts, 4 uploading (into nothing), $N rounds, order alternating."
  echo
  echo "| parts at once | runs (s) | median (s) | MiB/s |"
  echo "| --- | --- | --- | --- |"
  for k in "${values[@]}"; do
    read -r -a r <<< "${runs[$k]}"
    m="$(median "${r[@]}")"
    echo "| $k | ${r[*]} | $m | $(awk -v b="$IMAGE_LAYER_SIZE" -v s="$m" 'BEGIN{printf "%.0f", b / s / 1048576}') |"
  done
  echo "| curl, one connection | ${curls[*]} | $(median "${curls[@]}") | – |"
  echo
  echo "Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)."
  echo
  machine_info
} | tee "$OUT"
