#!/usr/bin/env bash
# Check a goreleaser dist/ directory against the Terraform/OpenTofu registry conventions:
#   - one zip per platform, terraform-provider-kie_<version>_<os>_<arch>.zip,
#     each holding exactly terraform-provider-kie_v<version> (.exe on windows);
#   - terraform-provider-kie_<version>_SHA256SUMS listing every zip and the
#     terraform-provider-kie_<version>_manifest.json, with matching sums;
#   - the manifest declares protocol 6.0.
#
#   scripts/check-release-artifacts.sh DIST [PLATFORMS]
# PLATFORMS is a comma-separated list like linux_amd64,darwin_arm64 (default: the full release matrix).
set -euo pipefail

readonly name=terraform-provider-kie
readonly all_platforms=darwin_amd64,darwin_arm64,freebsd_386,freebsd_amd64,freebsd_arm,freebsd_arm64,linux_386,linux_amd64,linux_arm,linux_arm64,windows_386,windows_amd64,windows_arm64

dist=${1:?usage: $0 DIST [PLATFORMS]}
platforms=${2:-$all_platforms}
manifest_src="$(cd "$(dirname "$0")/.." && pwd)/terraform-registry-manifest.json"

errors=0
fail() { printf 'release-artifacts: FAIL %s\n' "$*" >&2; errors=$((errors + 1)); }
ok() { printf 'release-artifacts: ok   %s\n' "$*" >&2; }

sha256() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum "$1" | cut -d' ' -f1
  else
    shasum -a 256 "$1" | cut -d' ' -f1
  fi
}

# zip_entries ZIP: print the file names inside ZIP, one a line.
zip_entries() {
  if command -v unzip >/dev/null 2>&1; then
    unzip -Z1 "$1"
  elif command -v python3 >/dev/null 2>&1; then
    python3 -c 'import sys, zipfile; print("\n".join(zipfile.ZipFile(sys.argv[1]).namelist()))' "$1"
  else
    echo "need unzip or python3 to list zip contents" >&2
    return 1
  fi
}

[ -d "$dist" ] || { echo "release-artifacts: no such directory: $dist" >&2; exit 1; }
cd "$dist"

shopt -s nullglob
sums_files=("${name}"_*_SHA256SUMS)
if [ "${#sums_files[@]}" -ne 1 ]; then
  echo "release-artifacts: expected exactly one ${name}_<version>_SHA256SUMS in $dist, found ${#sums_files[@]}" >&2
  exit 1
fi
sums=${sums_files[0]}
version=${sums#"${name}_"}
version=${version%_SHA256SUMS}
printf 'release-artifacts: checking %s version %s\n' "$dist" "$version" >&2

# The manifest: in the sums under its release name, same content as the repo's file, protocol 6.0.
manifest="${name}_${version}_manifest.json"
if grep -q '"protocol_versions": *\[ *"6\.0" *\]' "$manifest_src"; then
  ok "terraform-registry-manifest.json declares protocol 6.0"
else
  fail "terraform-registry-manifest.json does not declare protocol_versions [\"6.0\"]"
fi
manifest_sum=$(awk -v f="$manifest" '$2 == f || $2 == "*" f { print $1 }' "$sums")
if [ -z "$manifest_sum" ]; then
  fail "$sums does not list $manifest"
elif [ "$manifest_sum" != "$(sha256 "$manifest_src")" ]; then
  fail "$sums has a sum for $manifest that does not match terraform-registry-manifest.json"
else
  ok "$sums lists $manifest"
fi

# Every expected platform has a well-formed zip, listed in the sums with the right hash.
IFS=, read -r -a want <<<"$platforms"
for platform in "${want[@]}"; do
  zip="${name}_${version}_${platform}.zip"
  if [ ! -f "$zip" ]; then
    fail "missing $zip"
    continue
  fi
  bin="${name}_v${version}"
  case $platform in windows_*) bin="$bin.exe" ;; esac
  entries=$(zip_entries "$zip")
  if [ "$entries" != "$bin" ]; then
    fail "$zip must contain exactly $bin, has: $(printf '%s' "$entries" | tr '\n' ' ')"
    continue
  fi
  listed=$(awk -v f="$zip" '$2 == f || $2 == "*" f { print $1 }' "$sums")
  if [ -z "$listed" ]; then
    fail "$sums does not list $zip"
  elif [ "$listed" != "$(sha256 "$zip")" ]; then
    fail "$sums has the wrong sum for $zip"
  else
    ok "$zip ($bin)"
  fi
done

# Nothing unexpected: every zip in dist/ and every line of the sums belongs to the set above.
for zip in "${name}"_*.zip; do
  platform=${zip#"${name}_${version}_"}
  platform=${platform%.zip}
  case ",$platforms," in
    *",$platform,"*) ;;
    *) fail "unexpected archive $zip" ;;
  esac
done
while read -r _ file; do
  file=${file#\*}
  case $file in
    "$manifest") ;;
    "${name}_${version}_"*.zip) [ -f "$file" ] || fail "$sums lists $file, which is not in $dist" ;;
    *) fail "$sums lists an unexpected file: $file" ;;
  esac
done <"$sums"

if [ "$errors" -ne 0 ]; then
  echo "release-artifacts: $errors problem(s) found" >&2
  exit 1
fi
echo "release-artifacts: all checks passed for $version (${#want[@]} platforms)" >&2
