#!/usr/bin/env bash
# Benchmark (issue 16): `image-mirror mirror --store aws` (S3 + DynamoDB) vs `skopeo copy`
# registry -> registry.
#
#   bench/mirror-aws.sh                  # N=3 runs each, interleaved, 512 MiB layer
#   N=5 LAYER_MIB=256 OUT=/tmp/r.md bench/mirror-aws.sh
#
# One local upstream docker-registry holds a single-layer image (LAYER_MIB MiB, incompressible).
# Each run: (1) image-mirror (-Xmx256m) mirrors it into a fresh bucket and table of an s3proxy this
# script starts (objects on disk: the test bed's shared s3proxy keeps them in its 512 MiB heap) and
# of dynoxide (the test bed's, 127.0.0.1:4568, or DYNAMO_URL); the layer goes up as a multipart
# upload with parts sent in parallel while it streams; wall time, peak RSS and CPU via
# /usr/bin/time -v; (2) skopeo copies it to a fresh second docker-registry. The order alternates.
# Prints a Markdown table and writes it to $OUT (default bench/results/mirror-aws.md).
# Needs: java 17, the built jar (mvn -B -q -ntp package -DskipTests), docker-registry, skopeo, jq,
# curl, openssl, python3, /usr/bin/time (apt-get install -y time), the s3proxy jar
# (infra/testbed.sh install) and a running dynoxide (infra/testbed.sh start dynoxide).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
N="${N:-3}"
MIRROR_JAVA_OPTS="${MIRROR_JAVA_OPTS:--Xmx256m}"
OUT="${OUT:-$here/results/mirror-aws.md}"
DYNAMO_URL="${DYNAMO_URL:-http://127.0.0.1:4568}"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/bench-mirror-aws.XXXXXX")"
. "$here/lib.sh"
trap bench_cleanup EXIT
trap 'exit 130' INT TERM
need_tools java docker-registry skopeo jq curl openssl python3 sha256sum
[ -x /usr/bin/time ] || die "missing /usr/bin/time (apt-get install -y time)"
[ -s "$JAR" ] || die "no jar at $JAR: run mvn -B -q -ntp package -DskipTests"
[[ "$N" =~ ^[1-9][0-9]*$ ]] && [ "$N" -le 20 ] || die "N must be 1..20"
S3PROXY_JAR=""
for j in "$REPO_DIR/infra/.cache/s3proxy-4.1.0-jar-with-dependencies.jar" \
         "$HOME/.m2/repository/org/gaul/s3proxy/4.1.0/s3proxy-4.1.0-jar-with-dependencies.jar"; do
  [ -s "$j" ] && { S3PROXY_JAR="$j"; break; }
done
[ -n "$S3PROXY_JAR" ] || die "no s3proxy jar: run infra/testbed.sh install"
curl -s -o /dev/null -m 5 "$DYNAMO_URL" || die "no DynamoDB at $DYNAMO_URL: run infra/testbed.sh start dynoxide"

# Our own s3proxy, objects on disk.
S3_PORT="$(free_port)"
mkdir -p "$WORK/s3"
cat > "$WORK/s3proxy.properties" <<PROPS
s3proxy.endpoint=http://127.0.0.1:$S3_PORT
s3proxy.authorization=aws-v2-or-v4
s3proxy.identity=test
s3proxy.credential=test
jclouds.provider=filesystem-nio2
jclouds.filesystem.basedir=$WORK/s3
jclouds.identity=unused
jclouds.credential=unused
PROPS
java -Xmx512m -jar "$S3PROXY_JAR" --properties "$WORK/s3proxy.properties" > "$WORK/s3proxy.log" 2>&1 &
S3_PID=$!
track_pid "$S3_PID"
wait_http "http://127.0.0.1:$S3_PORT/" 60 || die "s3proxy did not start (see $WORK/s3proxy.log)"

UP_PORT="$(free_port)"; UP="127.0.0.1:$UP_PORT"
start_registry upstream "$UP_PORT" "$WORK/upstream"
build_image "$WORK/layout"
push_image "$WORK/layout" "$UP" bench/big:1
rm -rf "$WORK/layout"
SRC="$UP/bench/big:1"

export AWS_ENDPOINT_URL_S3="http://127.0.0.1:$S3_PORT" AWS_ENDPOINT_URL_DYNAMODB="$DYNAMO_URL" \
  AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test

# run_mirror I -> sets T_MIRROR, D_MIRROR (in-process duration), RSS_MIRROR (KiB), CPU_MIRROR, CPU_S3
run_mirror() {
  local i="$1" name="bench-aws-$$-$i" t0 t1 rc=0 s3cpu0
  sync  # flush earlier runs' dirty pages outside the clock
  s3cpu0="$(cpu_secs "$S3_PID")"
  t0="$(now)"
  /usr/bin/time -v -o "$WORK/time-$i.txt" java $MIRROR_JAVA_OPTS -jar "$JAR" --store aws --bucket "$name" \
    --table "$name" --create-missing --insecure-registry "$UP" mirror "$SRC" --json \
    > "$WORK/mirror-$i.out" 2> "$WORK/mirror-$i.err" || rc=$?
  t1="$(now)"
  CPU_S3="$(awk -v a="$s3cpu0" -v b="$(cpu_secs "$S3_PID")" 'BEGIN{printf "%.2f", b-a}')"
  [ "$rc" = 0 ] || { cat "$WORK/mirror-$i.out" "$WORK/mirror-$i.err" >&2; die "image-mirror mirror failed (exit $rc)"; }
  RSS_MIRROR="$(awk -F': ' '/Maximum resident set size/{print $2}' "$WORK/time-$i.txt")"
  CPU_MIRROR="$(awk -F': ' '/User time/{u=$2} /System time/{s=$2} END{printf "%.2f", u+s}' "$WORK/time-$i.txt")"
  D_MIRROR="$(jq -r '.durationMs / 1000 | . * 100 | round / 100' "$WORK/mirror-$i.out" 2>/dev/null || echo n/a)"
  local stored="$WORK/s3/$name/blobs/sha256/${IMAGE_LAYER_DIGEST#sha256:}"
  [ "$(stat -c %s "$stored" 2>/dev/null || echo 0)" = "$IMAGE_LAYER_SIZE" ] \
    || log "warning: layer not found at $stored after mirror run $i"
  T_MIRROR="$(elapsed "$t0" "$t1")"
  rm -rf "${WORK:?}/s3/$name"  # the bucket's files; the table stays (a few items) on the shared dynoxide
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

declare -a tm td tc ts rss t3
for ((i = 1; i <= N; i++)); do
  if ((i % 2)); then
    run_mirror "$i"; run_skopeo "$i"
  else
    run_skopeo "$i"; run_mirror "$i"
  fi
  tm+=("$T_MIRROR"); td+=("$D_MIRROR"); tc+=("$CPU_MIRROR"); ts+=("$T_SKOPEO"); rss+=("$RSS_MIRROR"); t3+=("$CPU_S3")
  log "run $i/$N: image-mirror → aws ${T_MIRROR}s (in-process ${D_MIRROR}s, CPU ${CPU_MIRROR}s, s3proxy CPU ${CPU_S3}s, peak RSS ${RSS_MIRROR} KiB), skopeo ${T_SKOPEO}s"
done

med_m="$(median "${tm[@]}")"; med_s="$(median "${ts[@]}")"
max_rss="$(printf '%s\n' "${rss[@]}" | sort -n | tail -1)"
mkdir -p "$(dirname "$OUT")"
{
  echo "### mirror into the aws store vs skopeo — $(date -u +%Y-%m-%dT%H:%MZ)"
  echo
  echo "Image: 1 layer, $IMAGE_LAYER_SIZE bytes (${LAYER_MIB} MiB incompressible payload), $N runs each, interleaved."
  echo "Store: s3proxy 4.1.0 (filesystem-nio2, started by the bench) + dynoxide ($DYNAMO_URL)."
  echo
  echo "| tool | runs (s) | median wall (s) | peak RSS |"
  echo "| --- | --- | --- | --- |"
  echo "| image-mirror mirror ($MIRROR_JAVA_OPTS) → S3 + DynamoDB | ${tm[*]} | $med_m | $((max_rss / 1024)) MiB (max of runs) |"
  echo "| skopeo copy registry → registry | ${ts[*]} | $med_s | – |"
  echo "| (image-mirror in-process \`durationMs\`, without JVM start/exit) | ${td[*]} | $(median "${td[@]}") | – |"
  echo "| (image-mirror CPU user+sys, s) | ${tc[*]} | $(median "${tc[@]}") | – |"
  echo "| (s3proxy CPU user+sys during the mirror, s) | ${t3[*]} | $(median "${t3[@]}") | – |"
  echo
  echo "Ratio skopeo / image-mirror: **$(ratio "$med_s" "$med_m")x**; load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)."
  echo
  machine_info
} | tee "$OUT"
