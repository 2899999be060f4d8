# Shared helpers for the bench/ scripts. Source it; it expects $WORK (a temp dir) to be set
# and an EXIT trap that calls bench_cleanup.
#
# Every server binds 127.0.0.1; each PID we start is recorded in $WORK/pids and only those
# PIDs are stopped.

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$BENCH_DIR/.." && pwd)"
JAR="${IMAGE_MIRROR_JAR:-$REPO_DIR/functions/local/target/image-mirror.jar}"
LAYER_MIB="${LAYER_MIB:-512}"
SEED="${SEED:-image-mirror-bench}"

log() { printf '%s %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

need_tools() {
  local t
  for t in "$@"; do command -v "$t" >/dev/null || die "missing tool: $t"; done
}

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", b-a}'; }

# median of the numbers given as arguments
median() {
  printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END{ if (NR==0) {print "n/a"; exit}
    if (NR%2) printf "%.2f", v[(NR+1)/2]; else printf "%.2f", (v[NR/2]+v[NR/2+1])/2 }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (b==0) print "n/a"; else printf "%.2f", a/b }'; }

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# wait_http URL SECONDS: poll until URL answers (any HTTP status < 500), bounded
wait_http() {
  local url="$1" secs="${2:-30}" i
  for ((i = 0; i < secs * 10; i++)); do
    if curl -s -o /dev/null -m 1 "$url"; then return 0; fi
    sleep 0.1
  done
  return 1
}

track_pid() { echo "$1" >> "$WORK/pids"; }

stop_pid() {
  local pid="$1" i
  [ -n "$pid" ] || return 0
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}

bench_cleanup() {
  local pid
  if [ -n "${WORK:-}" ] && [ -f "$WORK/pids" ]; then
    while read -r pid; do stop_pid "$pid"; done < "$WORK/pids"
  fi
  if [ -n "${WORK:-}" ] && [ -d "$WORK" ] && [ -z "${KEEP_WORK:-}" ]; then rm -rf "$WORK"; fi
}

# start_registry NAME PORT ROOTDIR [PROXY_REMOTE_URL] -> sets REG_PID; access log in $WORK/NAME.access.log
start_registry() {
  local name="$1" port="$2" root="$3" remote="${4:-}"
  local cfg="$WORK/$name.yml"
  mkdir -p "$root"
  {
    echo "version: 0.1"
    echo "log: {level: warn, formatter: text, accesslog: {disabled: false}}"
    echo "storage: {filesystem: {rootdirectory: $root}, delete: {enabled: true}}"
    echo "http: {addr: 127.0.0.1:$port}"
    [ -n "$remote" ] && echo "proxy: {remoteurl: $remote}"
  } > "$cfg"
  # the access log goes to stdout, everything else to stderr
  docker-registry serve "$cfg" >> "$WORK/$name.access.log" 2>> "$WORK/$name.err.log" &
  REG_PID=$!
  track_pid "$REG_PID"
  wait_http "http://127.0.0.1:$port/v2/" 30 || die "registry $name did not start (see $WORK/$name.err.log)"
}

# start_serve DATADIR PORT UPSTREAM_HOSTPORT [CONFIG] -> sets SERVE_PID. With CONFIG (a YAML file that
# configures UPSTREAM_HOSTPORT, e.g. with rules), serve reads it instead of taking the upstream from flags.
start_serve() {
  local data="$1" port="$2" up="$3" config="${4:-}"
  local upstream_args=(--insecure-registry "$up")
  [ -n "$config" ] && upstream_args=(--config "$config")
  java ${SERVE_JAVA_OPTS:-} -jar "$JAR" --data "$data" "${upstream_args[@]}" \
    serve --listen "127.0.0.1:$port" --default-upstream "$up" \
    >> "$WORK/serve.out.log" 2>> "$WORK/serve.err.log" &
  SERVE_PID=$!
  track_pid "$SERVE_PID"
  wait_http "http://127.0.0.1:$port/v2/" 60 || die "image-mirror serve did not start (see $WORK/serve.err.log)"
}

# build_image LAYOUT_DIR [MIB...]: an OCI layout with one incompressible layer per size given
# (default: one of LAYER_MIB MiB), tag "1". The payload is AES-CTR keystream from a fixed
# passphrase (reproducible, incompressible; the first layer uses $SEED, layer i > 1 "$SEED-i"); each
# layer is a gzip stream of *stored* deflate blocks (level 0): a valid tar+gzip layer that costs
# no compression time, so skopeo copies it as-is instead of recompressing.
# Sets IMAGE_LAYER_DIGEST/IMAGE_LAYER_SIZE (the first layer), IMAGE_LAYER_DIGESTS (all),
# IMAGE_LAYERS_BYTES (their sum), IMAGE_CONFIG_SIZE and IMAGE_MANIFEST_DIGEST.
build_image() {
  local out="$1"; shift
  local sizes=("$@")
  [ "${#sizes[@]}" -gt 0 ] || sizes=("$LAYER_MIB")
  local src="$WORK/payload" tarf="$WORK/layer.tar.gz" i mib seed
  mkdir -p "$out/blobs/sha256" "$src"
  log "building an image of ${#sizes[@]} layer(s): ${sizes[*]} MiB"
  local layers_json="[]" diffids_json="[]"
  IMAGE_LAYER_DIGESTS=(); IMAGE_LAYERS_BYTES=0
  for ((i = 1; i <= ${#sizes[@]}; i++)); do
    mib="${sizes[$((i - 1))]}"
    seed="$SEED"; [ "$i" -gt 1 ] && seed="$SEED-$i"
    { openssl enc -aes-256-ctr -pass "pass:$seed" -nosalt -pbkdf2 -in /dev/zero 2>/dev/null || true; } \
      | head -c $((mib * 1024 * 1024)) > "$src/payload.bin"
    touch -d @0 "$src/payload.bin"
    tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$src" -cf - payload.bin \
      | tee >(sha256sum | cut -d' ' -f1 > "$WORK/diffid") \
      | python3 -c '
import sys, zlib
c = zlib.compressobj(0, zlib.DEFLATED, 31)
r, w = sys.stdin.buffer, sys.stdout.buffer
while True:
    b = r.read(1 << 20)
    if not b: break
    w.write(c.compress(b))
w.write(c.flush())' > "$tarf"
    sleep 0.2  # let the process substitution finish writing the diff id
    local diffid layer_digest layer_size
    diffid="$(cat "$WORK/diffid")"
    layer_digest="$(sha256sum "$tarf" | cut -d' ' -f1)"
    layer_size="$(stat -c %s "$tarf")"
    mv "$tarf" "$out/blobs/sha256/$layer_digest"
    layers_json="$(jq -c --arg d "sha256:$layer_digest" --argjson s "$layer_size" \
      '. + [{mediaType:"application/vnd.oci.image.layer.v1.tar+gzip",digest:$d,size:$s}]' <<< "$layers_json")"
    diffids_json="$(jq -c --arg d "sha256:$diffid" '. + [$d]' <<< "$diffids_json")"
    IMAGE_LAYER_DIGESTS+=("sha256:$layer_digest"); IMAGE_LAYERS_BYTES=$((IMAGE_LAYERS_BYTES + layer_size))
    if [ "$i" = 1 ]; then IMAGE_LAYER_DIGEST="sha256:$layer_digest"; IMAGE_LAYER_SIZE="$layer_size"; fi
  done
  rm -rf "$src"
  local cfg cfg_digest cfg_size man man_digest man_size
  cfg="$(jq -cn --argjson d "$diffids_json" '{created:"1970-01-01T00:00:00Z",architecture:"amd64",os:"linux",
     config:{}, rootfs:{type:"layers",diff_ids:$d}, history:[{created:"1970-01-01T00:00:00Z",created_by:"image-mirror bench"}]}')"
  printf '%s' "$cfg" > "$WORK/cfg.json"
  cfg_digest="$(sha256sum "$WORK/cfg.json" | cut -d' ' -f1)"; cfg_size="$(stat -c %s "$WORK/cfg.json")"
  mv "$WORK/cfg.json" "$out/blobs/sha256/$cfg_digest"
  man="$(jq -cn --arg cd "sha256:$cfg_digest" --argjson cs "$cfg_size" --argjson ls "$layers_json" \
    '{schemaVersion:2, mediaType:"application/vnd.oci.image.manifest.v1+json",
      config:{mediaType:"application/vnd.oci.image.config.v1+json",digest:$cd,size:$cs},
      layers:$ls}')"
  printf '%s' "$man" > "$WORK/man.json"
  man_digest="$(sha256sum "$WORK/man.json" | cut -d' ' -f1)"; man_size="$(stat -c %s "$WORK/man.json")"
  mv "$WORK/man.json" "$out/blobs/sha256/$man_digest"
  printf '{"imageLayoutVersion":"1.0.0"}' > "$out/oci-layout"
  jq -cn --arg md "sha256:$man_digest" --argjson ms "$man_size" \
    '{schemaVersion:2, manifests:[{mediaType:"application/vnd.oci.image.manifest.v1+json",digest:$md,size:$ms,
      annotations:{"org.opencontainers.image.ref.name":"1"}}]}' > "$out/index.json"
  IMAGE_MANIFEST_DIGEST="sha256:$man_digest"; IMAGE_CONFIG_SIZE="$cfg_size"
  log "image: manifest sha256:$man_digest, ${#sizes[@]} layer(s), $IMAGE_LAYERS_BYTES bytes; first layer $IMAGE_LAYER_DIGEST ($IMAGE_LAYER_SIZE bytes)"
}

# start_capped_upstream RATE_MIB: a docker-registry ("upstream", access log $WORK/upstream.access.log)
# holding bench/big:1 (build_image's single layer) and bench/py/throttle_proxy.py in front of it,
# capping each connection at RATE_MIB MiB/s (0: no cap). Sets UP_PORT, PX_PORT and what build_image sets.
start_capped_upstream() {
  UP_PORT="$(free_port)"
  start_registry upstream "$UP_PORT" "$WORK/upstream"
  build_image "$WORK/layout"
  push_image "$WORK/layout" "127.0.0.1:$UP_PORT" bench/big:1
  rm -rf "$WORK/layout"
  PX_PORT="$(free_port)"
  python3 "$BENCH_DIR/py/throttle_proxy.py" "$PX_PORT" "127.0.0.1:$UP_PORT" "$1" &
  track_pid $!
  wait_http "http://127.0.0.1:$PX_PORT/v2/" 30 || die "the throttling proxy did not start"
}

# push_image LAYOUT_DIR HOSTPORT REPO:TAG
push_image() {
  skopeo copy -q --dest-tls-verify=false "oci:$1:1" "docker://$2/$3" >&2
}

# blob_get_stats LOGFILE FROM_LINE: "<blob GETs> <distinct blobs> <206 answers> <bytes sent>" after line
# FROM_LINE. The ranged parts of one blob (206s) are one fetch of that blob: "distinct blobs" is
# the number of blob fetches.
blob_get_stats() {
  tail -n +"$(($2 + 1))" "$1" | awk '$6 == "\"GET" && $7 ~ /\/blobs\/sha256:/ {n++; d[$7]=1; if ($9 == 206) p++;
      b += ($10 ~ /^[0-9]+$/ ? $10 : 0)}
    END {printf "%d %d %d %d\n", n, length(d), p, b}'
}

# count_blob_gets LOGFILE FROM_LINE: "<GET /blobs/ lines> <bytes sent by them>" after line FROM_LINE
count_blob_gets() {
  tail -n +"$(($2 + 1))" "$1" | awk '$6 == "\"GET" && $7 ~ /\/blobs\/sha256:/ {n++; b += ($10 ~ /^[0-9]+$/ ? $10 : 0)}
    END {printf "%d %d\n", n, b}'
}
# cpu_secs PID: user+system CPU seconds the process has used so far
cpu_secs() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($14 + $15) / hz}' "/proc/$1/stat" 2>/dev/null || echo 0; }
lines() { if [ -f "$1" ]; then wc -l < "$1"; else echo 0; fi; }

machine_info() {
  echo "- nproc: $(nproc); memory: $(free -m | awk '/^Mem:/{print $2}') MiB; kernel $(uname -r)"
  echo "- CPU: $(awk -F: '/model name/{gsub(/^ +/,"",$2); print $2; exit}' /proc/cpuinfo)"
  echo "- java: $(java -version 2>&1 | head -1)"
  echo "- skopeo: $(skopeo --version); docker-registry: $(dpkg-query -W -f='${Version}\n' docker-registry 2>/dev/null || echo '?')"
}
