#!/usr/bin/env bash
# Makes podman ready to build and run the controller image on a machine with no registry, and
# prints what a caller needs as KEY=VALUE lines on stdout (progress goes to stderr):
#
#   CONTAINERS_CONF=...            containers.conf: no default ulimits, cgroupfs, runc
#   CONTAINERS_STORAGE_CONF=...    storage.conf: images and build cache under the cache folder
#   TMPDIR=...                     podman's temporary files and RUN --mount=type=cache (the npm
#                                  cache of the build) under the cache folder as well
#   BUILD_IMAGE=...                stand-in for node:24-bookworm-slim (node, npm, a shell)
#   RUNTIME_IMAGE=...              stand-in for gcr.io/distroless/nodejs24-debian12:nonroot
#
# Nothing can be pulled, so both bases are made here from scratch: the Node.js binary of the
# npm package `node` (the one the tests run on, node_modules/.bin/node), the shared libraries
# `ldd` names, and, for the build base only, npm (`npm pack npm@VERSION`, cached), dash and env.
# The runtime base has no shell and no npm, like distroless: /nodejs/bin/node, its libraries,
# CA certificates, /etc/passwd with nonroot (65532) and an empty /tmp.
#
# Idempotent: installs podman and runc (Debian packages) only if missing, and builds a base only
# when no image of that tag exists (the tag names the Node.js and npm versions and the recipe).
# Everything is cached under ~/.cache/ecs-power (or ECS_POWER_CACHE_DIR). Needs root (rootful
# podman); apt-get runs only when a package is missing.
set -euo pipefail
log() { echo "provision-image: $*" >&2; }

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cache=${ECS_POWER_CACHE_DIR:-$HOME/.cache/ecs-power}
work=$cache/image
mkdir -p "$work"
# Bump when the recipe of a base changes, so that cached bases are rebuilt.
recipe=r2

[ "$(id -u)" = 0 ] || { log "needs root (rootful podman; installing podman needs apt-get)"; exit 1; }

exec 9>"$work/.provision.lock"
if ! flock -n 9; then
  log "waiting for another provision-image.sh to finish"
  flock 9
fi

# --- podman and runc (crun refuses this kind of host's hybrid cgroups) ---------------------------
missing=()
for p in podman runc; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2; then
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
  fi
fi

# --- configuration ---------------------------------------------------------------------------------
conf=$work/containers.conf
storage_conf=$work/storage.conf
# Run-time state (locks, mounts) of this storage, cleared at boot; one per storage folder.
runroot=/run/ecs-power-podman-$(printf '%s' "$work" | md5sum | cut -c1-8)
cat > "$conf.tmp" <<EOF
# Written by test/support/provision-image.sh.
[containers]
# The default ulimits (nofile, nproc) cannot be set from inside this kind of sandbox.
default_ulimits = []
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
runtime = "runc"
EOF
mv "$conf.tmp" "$conf"
cat > "$storage_conf.tmp" <<EOF
# Written by test/support/provision-image.sh: images and build layers live in the cache folder.
[storage]
driver = "overlay"
graphroot = "$work/storage"
runroot = "$runroot"
EOF
mv "$storage_conf.tmp" "$storage_conf"
export CONTAINERS_CONF=$conf CONTAINERS_STORAGE_CONF=$storage_conf

# --- the Node.js binary the tests run on ---------------------------------------------------------------
node_bin=$(readlink -f "$repo/node_modules/.bin/node" 2>/dev/null || true)
node_version=$("$node_bin" --version 2>/dev/null) || {
  log "no Node.js binary at node_modules/.bin/node (run npm ci first)"; exit 1; }
npm_version=$(npm --version)

build_tag=localhost/ecs-power-base/node-build:${node_version#v}-npm$npm_version-$recipe
runtime_tag=localhost/ecs-power-base/nodejs-runtime:${node_version#v}-$recipe

# Copies a program and every library ldd names into a root folder, at the same paths.
copy_with_libs() {
  local root=$1 src=$2 dest=$3 lib
  mkdir -p "$root$(dirname "$dest")"
  cp -L "$src" "$root$dest"
  for lib in $(ldd "$src" | grep -o '/[^ ]*' | sort -u); do
    [ -e "$root$lib" ] && continue
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
  done
}

# /etc/passwd, /etc/group, /tmp, CA certificates: what distroless's base holds.
base_files() {
  local root=$1
  mkdir -p "$root/etc/ssl/certs" "$root/tmp" "$root/root" "$root/home/nonroot"
  chmod 1777 "$root/tmp"
  chmod 700 "$root/root"
  chown 65532:65532 "$root/home/nonroot"
  printf '%s\n' 'root:x:0:0:root:/root:/sbin/nologin' 'nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin' \
    'nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin' > "$root/etc/passwd"
  printf '%s\n' 'root:x:0:' 'nogroup:x:65534:' 'nonroot:x:65532:' > "$root/etc/group"
  # The host's bundle: where TLS is intercepted (a proxy's CA), npm in the build base needs it.
  if [ -f /etc/ssl/certs/ca-certificates.crt ]; then cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/"; fi
}

import_root() {
  local root=$1 tag=$2; shift 2
  tar --numeric-owner -C "$root" -c . | podman import --quiet "$@" - "$tag" >/dev/null
}

image_exists() { podman image exists "$1"; }

if ! image_exists "$runtime_tag"; then
  log "building the runtime base $runtime_tag (node ${node_version}, no shell, no npm)"
  root=$(mktemp -d "$work/runtime-root.XXXXXX")
  base_files "$root"
  copy_with_libs "$root" "$node_bin" /nodejs/bin/node
  import_root "$root" "$runtime_tag" \
    --change 'ENTRYPOINT ["/nodejs/bin/node"]' \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/nodejs/bin' \
    --change 'ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt' \
    --change 'USER 65532' --change 'WORKDIR /home/nonroot'
  rm -rf "$root"
fi

if ! image_exists "$build_tag"; then
  npm_tgz=$work/npm-$npm_version.tgz
  if [ ! -s "$npm_tgz" ]; then
    log "npm pack npm@$npm_version"
    (cd "$work" && npm pack --silent "npm@$npm_version" >/dev/null)
  fi
  log "building the build base $build_tag (node ${node_version}, npm $npm_version, dash)"
  root=$(mktemp -d "$work/build-root.XXXXXX")
  base_files "$root"
  copy_with_libs "$root" "$node_bin" /usr/local/bin/node
  copy_with_libs "$root" /bin/dash /bin/sh
  copy_with_libs "$root" /usr/bin/env /usr/bin/env
  mkdir -p "$root/usr/local/lib/node_modules/npm"
  tar -xzf "$npm_tgz" -C "$root/usr/local/lib/node_modules/npm" --strip-components=1
  for tool in npm npx; do
    printf '#!/bin/sh\nexec /usr/local/bin/node /usr/local/lib/node_modules/npm/bin/%s-cli.js "$@"\n' "$tool" > "$root/usr/local/bin/$tool"
    chmod 755 "$root/usr/local/bin/$tool"
  done
  import_root "$root" "$build_tag" \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV HOME=/root' --change 'ENV NPM_CONFIG_UPDATE_NOTIFIER=false' \
    --change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' \
    --change 'CMD ["node"]'
  rm -rf "$root"
fi

# Build layers of older builds (each change of package-lock.json leaves ~450 MB): drop the
# untagged ones created more than a week ago. At worst the next build runs npm ci once more
# (with the npm cache warm).
podman --runtime runc image prune --force --filter until=168h >/dev/null 2>&1 || true

mkdir -p "$work/tmp"
echo "CONTAINERS_CONF=$conf"
echo "CONTAINERS_STORAGE_CONF=$storage_conf"
echo "BUILD_IMAGE=$build_tag"
echo "RUNTIME_IMAGE=$runtime_tag"
echo "TMPDIR=$work/tmp"
