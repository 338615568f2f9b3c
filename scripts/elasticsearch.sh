#!/usr/bin/env bash
# Run a throwaway single-node Elasticsearch for the tests and benchmarks.
#
#   scripts/elasticsearch.sh start   download (once), start, wait for health, print the URL
#   scripts/elasticsearch.sh stop    stop it and delete its data
#
# Debian has no Elasticsearch package; Maven Central publishes the minimal test distribution
# (no bundled JDK, standard analyzer only). With a Java 21+ under /usr/lib/jvm we run 9.2.0,
# else 8.19.4 on Debian's Java 17 (installed if no Java is there); the Python client speaks
# to both. The zip's SHA-512 is pinned here. Elasticsearch refuses to run as root, so under
# root it runs as the system user foiarchive-es. Port: FOIARCHIVE_ES_PORT (default 9250).
set -euo pipefail

port="${FOIARCHIVE_ES_PORT:-9250}"
cache="${FOIARCHIVE_CACHE:-$HOME/.cache/foiarchive}"
run_dir="${TMPDIR:-/tmp}/foiarchive-es-$port"
maven=https://repo1.maven.org/maven2/org/elasticsearch/distribution/integ-test-zip/elasticsearch
declare -A sha512=(
  [9.2.0]=2c624e913bb8712fb1698fc1ab3a241c868228183f089ff3cde17ad7bc7b5a9663454c2af939c65e075663826371e3d4344dca43a55a8aab9594f9a64b01d2c7
  [8.19.4]=51d6666aff2064bd50ec02a6aaf2f14d09366a8ec27adb474b3f555dbc99f8d71361c81ae09de5216b64aefe9c8cfc687dd5d7768490905f39f53cc6e28c79d7
)

say() { echo "elasticsearch: $*" >&2; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

java_major() { "$1/bin/java" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -1; }

# Prints "<java home> <elasticsearch version>"; FOIARCHIVE_ES_JAVA_HOME picks the Java.
pick_java() {
  local best="" best_major=0 home major
  for home in ${FOIARCHIVE_ES_JAVA_HOME:-/usr/lib/jvm/*/}; do
    home="${home%/}"
    [ -x "$home/bin/java" ] || continue
    major="$(java_major "$home")"
    [ -n "$major" ] && [ "$major" -gt "$best_major" ] && best="$home" best_major="$major"
  done
  if [ "$best_major" -ge 21 ]; then echo "$best 9.2.0"
  elif [ "$best_major" -ge 17 ]; then echo "$best 8.19.4"
  else return 1
  fi
}

install_java() {
  say "no Java 17+ found; installing Debian's default-jre-headless"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    default-jre-headless unzip >/dev/null
}

fetch() {
  local version="$1" zip="$cache/elasticsearch-$1.zip"
  mkdir -p "$cache"
  if ! echo "${sha512[$version]}  $zip" | sha512sum -c --status 2>/dev/null; then
    say "downloading Elasticsearch $version from Maven Central"
    curl -fsSL --retry 3 -o "$zip.part" "$maven/$version/elasticsearch-$version.zip"
    echo "${sha512[$version]}  $zip.part" | sha512sum -c --status \
      || { say "checksum mismatch for $maven/$version/elasticsearch-$version.zip"; exit 1; }
    mv "$zip.part" "$zip"
  fi
  echo "$zip"
}

start() {
  if curl -fs "http://127.0.0.1:$port/_cluster/health" >/dev/null 2>&1; then
    say "already running"; echo "http://127.0.0.1:$port"; return
  fi
  command -v unzip >/dev/null || as_root env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends unzip >/dev/null
  local choice java_home version zip user
  choice="$(pick_java)" || { install_java; choice="$(pick_java)"; }
  read -r java_home version <<<"$choice"
  zip="$(fetch "$version")"
  rm -rf "$run_dir"
  mkdir -p "$run_dir"
  unzip -q "$zip" -d "$run_dir"
  mv "$run_dir/elasticsearch-$version" "$run_dir/home"
  user="$(id -un)"
  if [ "$(id -u)" -eq 0 ]; then
    user=foiarchive-es
    id "$user" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$user"
    chown -R "$user" "$run_dir"
  fi
  say "starting Elasticsearch $version (Java $(java_major "$java_home")) on port $port"
  (cd "$run_dir" && runuser_or_self "$user" env ES_JAVA_HOME="$java_home" \
      ES_JAVA_OPTS="-Xms512m -Xmx512m" "$run_dir/home/bin/elasticsearch" -d -p "$run_dir/pid" \
      -E discovery.type=single-node -E xpack.security.enabled=false \
      -E network.host=127.0.0.1 -E http.port="$port" -E path.data="$run_dir/data" \
      -E path.logs="$run_dir/logs" -E cluster.routing.allocation.disk.threshold_enabled=false \
      -E action.destructive_requires_name=false >"$run_dir/start.log" 2>&1) \
    || { say "failed to start; see $run_dir/start.log"; tail -5 "$run_dir/start.log" >&2; exit 1; }
  for _ in $(seq 1 120); do
    if curl -fs "http://127.0.0.1:$port/_cluster/health?wait_for_status=yellow&timeout=1s" \
        >/dev/null 2>&1; then
      say "ready"; echo "http://127.0.0.1:$port"; return
    fi
    sleep 1
  done
  say "not healthy after 120 s; see $run_dir/logs"; exit 1
}

runuser_or_self() {
  local user="$1"; shift
  if [ "$user" = "$(id -un)" ]; then "$@"; else runuser -u "$user" -- "$@"; fi
}

stop() {
  if [ -f "$run_dir/pid" ]; then
    local pid; pid="$(cat "$run_dir/pid")"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -rf "$run_dir"
  say "stopped"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
