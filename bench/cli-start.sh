#!/usr/bin/env bash
# Benchmark (issue 16, "CLI start"): from `java -jar image-mirror.jar ref alpine` to exit.
#
#   bench/cli-start.sh                      # N=15 rounds
#   N=30 BEFORE_JAR=/tmp/old.jar bench/cli-start.sh
#
# Each round runs, interleaved so machine load hits all alike:
#   floor     java -Xshare:auto -version      (the JVM's own start and exit: what no jar can beat)
#   plain     java -jar $JAR ref alpine       (the single-jar install, no flags)
#   launcher  bin/image-mirror ref alpine     (the same jar with its AppCDS archive, see the script)
#   before    java -jar $BEFORE_JAR ref alpine  (only when BEFORE_JAR is set: an older build)
#   before-launcher  bin/image-mirror ref alpine with IMAGE_MIRROR_JAR=$BEFORE_JAR (its own archive)
# and reports the median wall and CPU (user+sys) seconds of each, and each median over the floor's.
# The launcher's archive is made before the first round (in a temp dir, not measured). Target:
# ref alpine ≤ 0.35 s wall. Prints a Markdown table and writes it to $OUT (default
# bench/results/cli-start.md). Needs: java 17, the built jar.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
N="${N:-15}"
OUT="${OUT:-$here/results/cli-start.md}"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/bench-cli.XXXXXX")"
. "$here/lib.sh"
trap bench_cleanup EXIT
trap 'exit 130' INT TERM
need_tools java
[ -s "$JAR" ] || die "no jar at $JAR: run mvn -B -q -ntp package -DskipTests"
[[ "$N" =~ ^[1-9][0-9]?$ ]] || die "N must be 1..99"
[ -z "${BEFORE_JAR:-}" ] || [ -s "$BEFORE_JAR" ] || die "no jar at BEFORE_JAR=$BEFORE_JAR"
LAUNCHER="$REPO_DIR/functions/local/bin/image-mirror"
export IMAGE_MIRROR_JAR="$JAR" IMAGE_MIRROR_CDS_DIR="$WORK/cds"

variants=(floor plain launcher)
[ -n "${BEFORE_JAR:-}" ] && variants+=(before before-launcher)
run_variant() {
  case "$1" in
    floor) java -Xshare:auto -version ;;
    plain) java -jar "$JAR" ref alpine ;;
    launcher) "$LAUNCHER" ref alpine ;;
    before) java -jar "$BEFORE_JAR" ref alpine ;;
    before-launcher) IMAGE_MIRROR_JAR="$BEFORE_JAR" IMAGE_MIRROR_CDS_DIR="$WORK/cds-before" "$LAUNCHER" ref alpine ;;
  esac
}

# check the outputs once, and make the launcher's archive (not measured)
for v in plain launcher ${BEFORE_JAR:+before before-launcher}; do
  got="$(run_variant "$v" 2>"$WORK/$v.err")" || die "$v failed: $(cat "$WORK/$v.err")"
  [ "$got" = "docker.io/library/alpine:latest" ] || die "$v printed '$got'"
done
ls "$WORK"/cds/*.jsa >/dev/null 2>&1 || die "the launcher made no archive in $WORK/cds"

declare -A walls cpus
TIMEFORMAT='%R %U %S'
log "N=$N rounds of: ${variants[*]}"
for ((i = 1; i <= N; i++)); do
  for v in "${variants[@]}"; do
    t="$( { time run_variant "$v" >/dev/null 2>&1; } 2>&1 )"
    read -r real user sys <<< "$t"
    walls[$v]+=" $real"
    cpus[$v]+=" $(awk -v u="$user" -v s="$sys" 'BEGIN{printf "%.3f", u+s}')"
  done
done

declare -A mw mc
for v in "${variants[@]}"; do
  # shellcheck disable=SC2086 # the lists are space-separated numbers
  mw[$v]="$(median ${walls[$v]})"; mc[$v]="$(median ${cpus[$v]})"
done
label() {
  case "$1" in
    floor) echo 'JVM floor: `java -Xshare:auto -version`' ;;
    plain) echo '`java -jar image-mirror.jar ref alpine`' ;;
    launcher) echo '`bin/image-mirror ref alpine` (AppCDS archive)' ;;
    before) echo "\`java -jar $(basename "$BEFORE_JAR") ref alpine\` (BEFORE_JAR)" ;;
    before-launcher) echo "\`bin/image-mirror ref alpine\` with BEFORE_JAR (its own AppCDS archive)" ;;
  esac
}
mkdir -p "$(dirname "$OUT")"
{
  echo "### CLI start — $(date -u +%Y-%m-%dT%H:%MZ), N=$N interleaved rounds, load average $(cut -d' ' -f1-3 /proc/loadavg)"
  echo
  echo "| command | wall median (s) | CPU user+sys median (s) | wall / floor |"
  echo "| --- | --- | --- | --- |"
  for v in "${variants[@]}"; do
    echo "| $(label "$v") | ${mw[$v]} | ${mc[$v]} | $(ratio "${mw[$v]}" "${mw[floor]}") |"
  done
  echo
  echo "Target: \`ref alpine\` ≤ 0.35 s wall. Jar: $(stat -c %s "$JAR") bytes."
  echo
  machine_info
} | tee "$OUT"
