#!/usr/bin/env bash
# Makes etcd, kube-apiserver, kube-controller-manager and kubectl available for the test cluster
# and prints the folder that holds them (envtest's KUBEBUILDER_ASSETS convention) on stdout;
# progress goes to stderr. Builds kube-apiserver and kube-controller-manager 1.20.2 from Debian's
# source package once (about 8 minutes on 2 cores for both) and caches them outside the checkout (~/.cache/ecs-power, or ECS_POWER_CACHE_DIR); see
# shared/spec/TEST-CLUSTER.md. Installing packages needs root; a second run only prints the path.
set -euo pipefail
log() { echo "provision: $*" >&2; }

if [ -n "${KUBEBUILDER_ASSETS:-}" ]; then
  for b in kube-apiserver kube-controller-manager etcd kubectl; do
    [ -x "$KUBEBUILDER_ASSETS/$b" ] || { log "KUBEBUILDER_ASSETS=$KUBEBUILDER_ASSETS has no $b"; exit 1; }
  done
  echo "$KUBEBUILDER_ASSETS"; exit 0
fi

cache=${ECS_POWER_CACHE_DIR:-$HOME/.cache/ecs-power}
assets=$cache/assets

# kube-controller-manager runs the garbage collector that owner references need (fleets).
k8s_binaries=(kube-apiserver kube-controller-manager)
k8s_missing() { local b; for b in "${k8s_binaries[@]}"; do [ -x "$assets/$b" ] || echo "$b"; done; }
ready() { [ -x "$assets/etcd" ] && [ -x "$assets/kubectl" ] && [ -z "$(k8s_missing)" ]; }
if ready; then echo "$assets"; exit 0; fi

mkdir -p "$assets"
# One provisioner at a time (parallel test processes, or CI and a developer on one machine).
exec 9>"$cache/.provision.lock"
if ! flock -n 9; then
  log "waiting for another provision-cluster.sh to finish"
  flock 9
fi
if ready; then echo "$assets"; exit 0; fi

need_root() { [ "$(id -u)" = 0 ] || { log "need root to $*; run test/support/provision-cluster.sh as root once, or set KUBEBUILDER_ASSETS"; exit 1; }; }

apt_updated=
apt_install() {
  local missing=() p
  for p in "$@"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  need_root "apt-get install ${missing[*]}"
  if [ -z "$apt_updated" ]; then log "apt-get update"; apt-get update -qq >&2; apt_updated=1; fi
  log "apt-get install ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}

# Adds a deb-src entry for bookworm, next to the existing deb entry (same mirror and keyring).
ensure_deb_src() {
  local src=/etc/apt/sources.list.d/debian-src.sources list=/etc/apt/sources.list.d/debian-src.list
  if [ -s "$src" ] || [ -s "$list" ]; then return 0; fi
  if grep -rqs '^[[:space:]]*Types:.*deb-src' /etc/apt/sources.list.d/*.sources ||
     grep -rqs '^[[:space:]]*deb-src[[:space:]].*bookworm[[:space:]]' /etc/apt/sources.list /etc/apt/sources.list.d/*.list; then
    return 0
  fi
  need_root "add a deb-src entry"
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    # deb822 (Debian's container images): copy the paragraph of the main suites.
    awk 'BEGIN{RS="";ORS="\n\n"} /Suites: bookworm bookworm-updates/ {sub(/Types: deb/,"Types: deb-src"); print}' \
      /etc/apt/sources.list.d/debian.sources > "$src"
  fi
  if [ ! -s "$src" ]; then
    rm -f "$src"
    # one-line format: the first "deb" line for bookworm (not security), as deb-src
    grep -hs '^[[:space:]]*deb[[:space:]].*[[:space:]]bookworm[[:space:]]' /etc/apt/sources.list /etc/apt/sources.list.d/*.list |
      head -1 | sed 's/^[[:space:]]*deb[[:space:]]/deb-src /' > "$list" || true
    [ -s "$list" ] || { rm -f "$list"; log "found no Debian bookworm apt source to add deb-src for"; exit 1; }
  fi
  apt_updated= # the new entry needs an apt-get update
}

# Everything apt has to do, with a single apt-get update.
pkgs=()
[ -x "$assets/etcd" ] || pkgs+=(etcd-server)
if [ ! -x "$assets/kubectl" ] && ! command -v kubectl >/dev/null; then pkgs+=(kubernetes-client); fi
if [ -n "$(k8s_missing)" ]; then
  ensure_deb_src
  pkgs+=(golang-go make rsync golang-github-modern-go-reflect2-dev dpkg-dev)
fi
[ ${#pkgs[@]} -eq 0 ] || apt_install "${pkgs[@]}"

if [ ! -x "$assets/etcd" ]; then
  ln -sf "$(command -v etcd || echo /usr/bin/etcd)" "$assets/etcd"
fi
if [ ! -x "$assets/kubectl" ]; then
  ln -sf "$(command -v kubectl)" "$assets/kubectl"
fi

missing_bins=$(k8s_missing | tr '\n' ' ')
if [ -n "${missing_bins// /}" ]; then
  started=$SECONDS
  build=$cache/build
  rm -rf "$build"; mkdir -p "$build"
  log "downloading Debian's kubernetes source package"
  if ! (cd "$build" && apt-get source --download-only kubernetes >&2); then
    # stale package lists (e.g. after a point release): refresh once and retry
    log "apt-get update"; apt-get update -qq >&2
    (cd "$build" && apt-get source --download-only kubernetes >&2)
  fi
  orig=$(ls "$build"/kubernetes_*.orig.tar.gz | head -1)
  mkdir -p "$build/tree"
  tar -xzf "$orig" -C "$build/tree" --strip-components=1
  tree=$build/tree
  # The vendored reflect2 1.0.1 crashes under Go >= 1.18; use Debian's 1.0.2.
  r2=$tree/vendor/github.com/modern-go/reflect2
  find "$r2" -maxdepth 1 -type f \( -name '*.go' -o -name '*.s' \) -delete
  for f in /usr/share/gocode/src/github.com/modern-go/reflect2/*.go /usr/share/gocode/src/github.com/modern-go/reflect2/*.s; do
    [ -e "$f" ] || continue
    case "$f" in *_test.go) continue;; esac
    cp "$f" "$r2/"
  done
  mkdir -p "$build/gopath/src/k8s.io"
  ln -sfn "$tree" "$build/gopath/src/k8s.io/kubernetes"
  what=
  for b in $missing_bins; do what="$what cmd/$b"; done
  log "building${what} with $(go version | awk '{print $3}') (about 5 minutes each on 2 cores, shared packages built once)"
  (cd "$build/gopath/src/k8s.io/kubernetes" && \
    GOPATH=$build/gopath GO111MODULE=off CGO_ENABLED=0 GOFLAGS= GOCACHE=$build/gocache \
    make WHAT="${what# }" >&2)
  for b in $missing_bins; do
    "$tree/_output/bin/$b" --version >&2
    cp "$tree/_output/bin/$b" "$assets/$b.tmp"
    mv "$assets/$b.tmp" "$assets/$b"
  done
  rm -rf "$build"
  log "built ${missing_bins}in $((SECONDS - started))s, cached in $assets"
fi
echo "$assets"
