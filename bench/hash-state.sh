#!/usr/bin/env bash
# Benchmark (issue 16): the SHA-256 of a resumable copy (oci/Sha256State), as the CopyWorker hashes
# a blob of 64 MiB or more: MIB MiB in parts of PART_MIB MiB, the state saved and restored after
# every part, ROUNDS rounds in one fresh JVM per variant (round 1 includes the JIT's warm-up), next
# to the JDK's MessageDigest over the same bytes and coreutils' sha256sum of a file of them.
# Variants: with and without --add-opens=java.base/sun.security.provider=ALL-UNNAMED (the JDK's
# SHA-256 vs Bouncy Castle's), each at the default tiers (C2, as the CopyWorker runs) and at C1
# (-XX:TieredStopAtLevel=1, Lambda's default for a function that sets nothing).
#
#   bench/hash-state.sh                      # MIB=512 PART_MIB=16 ROUNDS=3
#   MIB=1024 OUT=/tmp/h.md bench/hash-state.sh
#
# Needs java 17 and javac, and the deployment jar (mvn -B -q -ntp -pl functions/aws -am package -DskipTests).
# Prints Markdown and writes it to $OUT (default bench/results/hash-state.md).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
MIB="${MIB:-512}"
PART_MIB="${PART_MIB:-16}"
ROUNDS="${ROUNDS:-3}"
OUT="${OUT:-$here/results/hash-state.md}"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/bench-hash.XXXXXX")"
. "$here/lib.sh"
trap bench_cleanup EXIT
trap 'exit 130' INT TERM
need_tools java javac sha256sum head
AWS_JAR="$REPO_DIR/functions/aws/target/image-mirror-aws.jar"
[ -s "$AWS_JAR" ] || die "no jar at $AWS_JAR: run mvn -B -q -ntp -pl functions/aws -am package -DskipTests"
[[ "$MIB" =~ ^[1-9][0-9]*$ && "$PART_MIB" =~ ^[1-9][0-9]*$ && $((MIB % PART_MIB)) = 0 ]] \
  || die "MIB must be a multiple of PART_MIB"

mkdir -p "$WORK/classes"
javac -d "$WORK/classes" -cp "$AWS_JAR" "$here/java/HashStateBench.java"
OPEN="--add-opens=java.base/sun.security.provider=ALL-UNNAMED"

# variant NAME FLAGS... -> one table row per variant (state rounds, then MessageDigest's last round)
rows=()
variant() {
  local name="$1"; shift
  log "$name"
  local out
  out="$(java "$@" -cp "$AWS_JAR:$WORK/classes" HashStateBench "$MIB" "$PART_MIB" "$ROUNDS")"
  local impl rounds md
  if grep -q '^implementation: JDK' <<< "$out"; then impl="JDK SHA-256"; else impl="Bouncy Castle SHA256Digest"; fi
  rounds="$(awk '/^state round/{printf "%s%s s (%s MiB/s)", sep, $4, substr($6,1); sep="; "}' <<< "$out")"
  md="$(awk '/^messagedigest round/{v=$4" s"} END{print v}' <<< "$out")"
  rows+=("| $name | $impl | $rounds | $md |")
}
variant "C2, $OPEN" "$OPEN"
variant "C2, no flag" -Dbench.unused=1
variant "C1, $OPEN" -XX:TieredStopAtLevel=1 "$OPEN"
variant "C1, no flag" -XX:TieredStopAtLevel=1

head -c "$((MIB << 20))" /dev/urandom > "$WORK/blob"
sha256sum "$WORK/blob" > /dev/null  # into the page cache
t0="$(now)"; sha256sum "$WORK/blob" > /dev/null; t1="$(now)"
SUM="$(elapsed "$t0" "$t1")"

mkdir -p "$(dirname "$OUT")"
{
  echo "### resumable copy hash (Sha256State) — $(date -u +%Y-%m-%dT%H:%MZ)"
  echo
  echo "$MIB MiB in $PART_MIB MiB parts, state saved and restored after each part, $ROUNDS rounds in one JVM;"
  echo "MessageDigest: the JDK's SHA-256 over the same bytes in the same JVM (last round)."
  echo
  echo "| JVM | hashes with | rounds: seconds (MiB/s) | MessageDigest |"
  echo "| --- | --- | --- | --- |"
  printf '%s\n' "${rows[@]}"
  echo
  echo "coreutils sha256sum of a $MIB MiB file (page cache): ${SUM} s. Load average: $(cut -d' ' -f1-3 /proc/loadavg)."
  echo
  machine_info
} | tee "$OUT"
