#!/usr/bin/env bash
# Copies into charts/ecs-power/files/ the sources the Helm chart shares with the kustomize install,
# so that each has one source:
#   crds/*.yaml (but kustomization.yaml)            -> files/crds/
#   deploy/grafana/*.json                           -> files/grafana/
#   deploy/components/prometheus/prometheusrule.yaml -> files/prometheus/
# Run it after changing any of them; test/unit/helm-chart.test.ts fails until the copies match.
# --check: change nothing, exit 1 and list the differences if a copy is stale.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
files=charts/ecs-power/files

check=
[ "${1:-}" = --check ] && check=1

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/crds" "$stage/grafana" "$stage/prometheus"
for f in crds/*.yaml crds/*.yml; do
  [ -e "$f" ] || continue
  case "$(basename "$f")" in kustomization.yaml | kustomization.yml) continue ;; esac
  cp "$f" "$stage/crds/"
done
cp deploy/grafana/*.json "$stage/grafana/"
cp deploy/components/prometheus/prometheusrule.yaml "$stage/prometheus/"

if [ -n "$check" ]; then
  if ! diff -r "$stage" "$files" >/dev/null 2>&1; then
    echo "charts/ecs-power/files is stale; run scripts/sync-chart.sh:" >&2
    diff -rq "$stage" "$files" | sed "s#$stage#(sources)#" >&2 || true
    exit 1
  fi
  exit 0
fi
rm -rf "$files"
mkdir -p "$(dirname "$files")"
cp -r "$stage" "$files"
chmod -R u=rwX,go=rX "$files"
echo "synced $(find "$files" -type f | wc -l) files into $files"
