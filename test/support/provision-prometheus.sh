#!/usr/bin/env bash
# Makes Debian bookworm's Prometheus (`prometheus` and `promtool` from the `prometheus` package)
# available to the tests and prints the folder that holds both on stdout; progress goes to stderr.
# The two binaries are unpacked from the .deb into ~/.cache/ecs-power/prometheus (or
# ECS_POWER_CACHE_DIR) instead of installing the package, so that no prometheus service is set
# up or started on the machine. Root is needed only if apt's package lists must be refreshed.
# A second run only prints the path. PROMETHEUS_BIN_DIR, when set, is used as is (and checked).
set -euo pipefail
log() { echo "provision-prometheus: $*" >&2; }

has_both() { [ -x "$1/prometheus" ] && [ -x "$1/promtool" ]; }

if [ -n "${PROMETHEUS_BIN_DIR:-}" ]; then
  has_both "$PROMETHEUS_BIN_DIR" || { log "PROMETHEUS_BIN_DIR=$PROMETHEUS_BIN_DIR has no prometheus and promtool"; exit 1; }
  echo "$PROMETHEUS_BIN_DIR"; exit 0
fi

cache=${ECS_POWER_CACHE_DIR:-$HOME/.cache/ecs-power}
dir=$cache/prometheus
if has_both "$dir"; then echo "$dir"; exit 0; fi

mkdir -p "$cache"
# One provisioner at a time (parallel test processes, or CI and a developer on one machine).
exec 9>"$cache/.provision-prometheus.lock"
if ! flock -n 9; then
  log "waiting for another provision-prometheus.sh to finish"
  flock 9
fi
if has_both "$dir"; then echo "$dir"; exit 0; fi

command -v apt-get >/dev/null && command -v dpkg-deb >/dev/null || {
  log "needs apt-get and dpkg-deb (Debian) to fetch Debian's prometheus package"; exit 1; }

work=$(mktemp -d "$cache/prometheus-download.XXXXXX")
trap 'rm -rf "$work"' EXIT
download() { (cd "$work" && apt-get download prometheus >&2); }
if ! download; then
  [ "$(id -u)" = 0 ] || { log "apt-get download prometheus failed; run this script as root once so it can apt-get update"; exit 1; }
  log "apt-get update"
  apt-get update -qq >&2
  download
fi
deb=$(ls "$work"/prometheus_*.deb | head -1)
log "unpacking $(basename "$deb")"
dpkg-deb -x "$deb" "$work/root"
"$work/root/usr/bin/prometheus" --version >&2
"$work/root/usr/bin/promtool" --version >&2
rm -rf "$dir.tmp"
mkdir -p "$dir.tmp"
cp "$work/root/usr/bin/prometheus" "$work/root/usr/bin/promtool" "$dir.tmp/"
rm -rf "$dir"
mv "$dir.tmp" "$dir"
log "cached in $dir"
echo "$dir"
