#!/usr/bin/env bash
# Cold start of each Lambda handler: for every sample event under events/, N fresh JVMs on the
# deployment jar (the time from JVM launch to the first handled event, split into JVM start,
# handler init and first event), against the test bed (s3proxy, dynoxide, ElasticMQ) with a local
# docker-registry as Docker Hub; prints a Markdown table (median / p90) and the jar size.
#
#   bench/cold-start.sh [--runs N] [--java PATH/bin/java] [--jar JAR] [--primed] [--cds] [--no-build] [--events a.json,b.json] [--jvm-arg ARG]...
#
#   --runs N      fresh JVMs per event (default 5)
#   --java PATH   the JVM to measure (default: java on PATH; e.g. /usr/lib/jvm/temurin-25-jdk-amd64/bin/java)
#   --primed      run the SnapStart priming between init and the event: approximates the first
#                 event after a SnapStart restore (not the restore itself)
#   --cds         start each event's JVMs with an AppCDS archive of their own, written by one
#                 unmeasured run of that event with the same JVM: what a function gets from an
#                 archive made by Lambda's own JVM build (an archive loads only into the JVM build
#                 that wrote it) and shipped in its package
#   --jar JAR     the deployment jar to start (default functions/aws/target/image-mirror-aws.jar)
#   --jvm-arg ARG one more flag for the measured JVMs (repeatable), e.g. -XX:StartFlightRecording=...
#   --no-build    reuse functions/aws/target (jar, test classes, classpath) from an earlier run
#
# The child JVMs get the flags of Lambda's Java runtime that apply here (see ColdStartBench).
# Needs the test bed (infra/testbed.sh install); starts what is not running, stops nothing.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

build=1
args=()
while (($#)); do
  case "$1" in
    --no-build) build=0; shift ;;
    --runs|--java|--jar|--events|--jvm-arg) args+=("$1" "$2"); shift 2 ;;
    --primed|--cds) args+=("$1"); shift ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

bash infra/testbed.sh start >&2
command -v docker-registry >/dev/null || { echo "docker-registry missing: infra/testbed.sh install" >&2; exit 1; }

cp_file="functions/aws/target/bench.classpath"
if ((build)); then
  # package (not install): the reactor resolves the sibling modules; one classpath file per module.
  mvn -B -ntp -q -pl functions/aws -am package -DskipTests \
    dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=target/bench.classpath >&2
fi
[ -s "$cp_file" ] || { echo "$cp_file missing: run without --no-build" >&2; exit 1; }

java -cp "functions/aws/target/test-classes:functions/aws/target/classes:$(cat "$cp_file")" \
  io.imagemirror.aws.bench.ColdStartBench "${args[@]}"
