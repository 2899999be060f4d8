#!/usr/bin/env bash
# Benchmark (issue 12): one sweep of a store of SMALL manifests, 1% of them dangling, against one
# of LARGE manifests with the same dangling ones, made through the store ports (no upstream). Target: the second costs about
# the same as the first (a sweep's work grows with what became unreferenced, not with the store).
#
#   bench/sweep-scale.sh                           # SQLite: 10,000 vs 100,000
#   SMALL=2000 LARGE=20000 BACKENDS="sqlite aws" bench/sweep-scale.sh
#
# aws = dynoxide (DynamoDB, 127.0.0.1:4568) + s3proxy (127.0.0.1:4561) of the test bed, started by
# infra/testbed.sh; a table and a bucket of their own are made and dropped (S3=file: blobs in a
# directory instead of s3proxy). Prints a Markdown table
# (sweep wall time, port calls, DynamoDB/S3 requests, and the LARGE/SMALL ratios) and writes it to
# $OUT (default bench/results/sweep-scale.md). Compiles the reactor (no install) and the bench main.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SMALL="${SMALL:-10000}"
LARGE="${LARGE:-100000}"
# The same dangling set in both stores (1% of SMALL): what a sweep must delete stays, the store grows.
DANGLING="${DANGLING:-$((SMALL / 100))}"
BACKENDS="${BACKENDS:-sqlite}"
DYNAMO="${DYNAMO:-http://127.0.0.1:4568}"
S3="${S3:-http://127.0.0.1:4561}"
OUT="${OUT:-$here/results/sweep-scale.md}"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/bench-sweep.XXXXXX")"
. "$here/lib.sh"
trap bench_cleanup EXIT
trap 'exit 130' INT TERM
need_tools java javac mvn

log "compiling the reactor and the bench main"
( cd "$REPO_DIR" && mvn -B -ntp -q -pl functions/local,functions/aws -am compile dependency:build-classpath \
    -Dmdep.outputFile=target/bench-classpath.txt -Dmdep.includeScope=runtime >/dev/null )
CP="$REPO_DIR/functions/core/target/classes:$REPO_DIR/functions/local/target/classes"
CP="$CP:$REPO_DIR/functions/aws/target/classes"
for m in local aws; do CP="$CP:$(cat "$REPO_DIR/functions/$m/target/bench-classpath.txt")"; done
mkdir -p "$WORK/classes"
javac -d "$WORK/classes" -cp "$CP" "$here/java/SweepScale.java"

run() { # backend size -> one result line
  local backend="$1" n="$2"
  if [ "$backend" = sqlite ]; then
    java -cp "$WORK/classes:$CP" SweepScale sqlite "$WORK/data-$n" "$n" "$DANGLING"
    rm -rf "$WORK/data-$n"
  else
    local s3="$S3"
    [ "$S3" = file ] && s3="file:$WORK/awsdata-$n"   # DynamoDB with the blobs in a directory
    java -cp "$WORK/classes:$CP" SweepScale aws "$DYNAMO" "$s3" "$n" "$DANGLING"
    rm -rf "$WORK/awsdata-$n"
  fi
}

{
  echo "| backend | manifests | dangling | setup s | sweep ms | deleted (manifests / blobs) | pages | port calls | DynamoDB req | S3 req |"
  echo "|---|---:|---:|---:|---:|---|---:|---:|---:|---:|"
} > "$WORK/table.md"
for backend in $BACKENDS; do
  for n in "$SMALL" "$LARGE"; do
    log "$backend: $n manifests"
    line="$(run "$backend" "$n" | tail -1)"
    echo "$line" >> "$WORK/lines.txt"
    log "$line"
    awk -F'|' '{ printf "| %s | %s | %s | %s | %s | %s / %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6, $7, $8,
        $9, $10, $11 }' <<< "$line" >> "$WORK/table.md"
  done
done
{
  echo
  echo "Ratios LARGE/SMALL ($LARGE/$SMALL manifests, $DANGLING dangling in each):"
  awk -F'|' '{ key=$1; if (!(key in first)) { first[key]=$0 } else { split(first[key], a, "|");
      printf "- %s: sweep time %.2fx, port calls %.2fx, per dangling manifest %.1f vs %.1f port calls\n",
        key, $5/a[5], $9/a[9], a[9]/a[3], $9/$3 } }' "$WORK/lines.txt"
  echo
  machine_info 2>/dev/null || true
} >> "$WORK/table.md"
mkdir -p "$(dirname "$OUT")"
cp "$WORK/table.md" "$OUT"
cat "$OUT"
