#!/usr/bin/env bash
# Check a goreleaser dist/ directory against the Terraform/OpenTofu registry conventions:
#   - one zip per platform, terraform-provider-kie_<version>_<os>_<arch>.zip,
#     each holding exactly terraform-provider-kie_v<version> (.exe on windows);
#   - terraform-provider-kie_<version>_SHA256SUMS listing every zip and the
#     terraform-provider-kie_<version>_manifest.json, with matching sums;
#   - the manifest declares protocol 6.0;
#   - one kie-mock archive per platform, kie-mock_<version>_<os>_<arch>.tar.gz (.zip on windows),
#     holding kie-mock (.exe on windows), LICENSE and THIRD_PARTY_NOTICES, listed in the sums too; the one for this
#     machine's platform, when it is in the set, starts and answers /_mock/health.
#
#   scripts/check-release-artifacts.sh DIST [PLATFORMS]
# PLATFORMS is a comma-separated list like linux_amd64,darwin_arm64 (default: the full release matrix).
set -euo pipefail

readonly name=terraform-provider-kie
readonly mock=kie-mock
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

# archive_entries ARCHIVE: print the file names inside a .zip or .tar.gz, one a line.
archive_entries() {
  case $1 in
    *.zip) zip_entries "$1" ;;
    *) tar -tzf "$1" ;;
  esac
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

# check_listed FILE BIN: FILE (holding BIN) is listed in the sums with its hash.
check_listed() {
  local listed
  listed=$(awk -v f="$1" '$2 == f || $2 == "*" f { print $1 }' "$sums")
  if [ -z "$listed" ]; then
    fail "$sums does not list $1"
  elif [ "$listed" != "$(sha256 "$1")" ]; then
    fail "$sums has the wrong sum for $1"
  else
    ok "$1 ($2)"
  fi
}

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
  check_listed "$zip" "$bin"
done

# kie-mock: its own archive per platform (never inside the provider zips checked above).
for platform in "${want[@]}"; do
  ext=tar.gz bin=$mock
  case $platform in windows_*) ext=zip bin=$mock.exe ;; esac
  archive="${mock}_${version}_${platform}.$ext"
  if [ ! -f "$archive" ]; then
    fail "missing $archive"
    continue
  fi
  entries=$(archive_entries "$archive" | LC_ALL=C sort | tr '\n' ' ')
  if [ "$entries" != "LICENSE THIRD_PARTY_NOTICES $bin " ]; then
    fail "$archive must contain exactly $bin, LICENSE and THIRD_PARTY_NOTICES, has: $entries"
    continue
  fi
  check_listed "$archive" "$bin"
done

# The archive for this machine runs as the testing guide tells CI to run it: start on a free
# loopback port, wait for /_mock/health, stop.
smoke_mock() {
  local host archive dir pid i url=''
  host=$(go env GOOS 2>/dev/null)_$(go env GOARCH 2>/dev/null) || return 0
  case ",$platforms," in *",$host,"*) ;; *) return 0 ;; esac
  case $host in windows_*) return 0 ;; esac
  if ! command -v curl >/dev/null 2>&1; then
    printf 'release-artifacts: skip kie-mock smoke run: no curl\n' >&2
    return 0
  fi
  archive="${mock}_${version}_${host}.tar.gz"
  [ -f "$archive" ] || return 0
  dir=$(mktemp -d)
  tar -xzf "$archive" -C "$dir"
  "$dir/$mock" -addr 127.0.0.1:0 -url-file "$dir/url" -latency 0s >"$dir/log" 2>&1 &
  pid=$!
  for i in $(seq 1 100); do
    if [ -s "$dir/url" ] && curl -fsS "$(cat "$dir/url")/_mock/health" >/dev/null 2>&1; then
      url=$(cat "$dir/url")
      break
    fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  if [ -n "$url" ]; then
    ok "$archive starts and answers /_mock/health"
  else
    fail "$archive: kie-mock did not answer /_mock/health within 10s: $(tail -n 5 "$dir/log" | tr '\n' ' ')"
  fi
  rm -rf "$dir"
}
smoke_mock

# Nothing unexpected: every archive in dist/ and every line of the sums belongs to the set above.
for zip in "${name}"_*.zip; do
  platform=${zip#"${name}_${version}_"}
  platform=${platform%.zip}
  case ",$platforms," in
    *",$platform,"*) ;;
    *) fail "unexpected archive $zip" ;;
  esac
done
for archive in "${mock}"_*.tar.gz "${mock}"_*.zip; do
  platform=${archive#"${mock}_${version}_"}
  platform=${platform%.tar.gz}
  platform=${platform%.zip}
  case ",$platforms," in
    *",$platform,"*) ;;
    *) fail "unexpected archive $archive" ;;
  esac
done
while read -r _ file; do
  file=${file#\*}
  case $file in
    "$manifest") ;;
    "${name}_${version}_"*.zip | "${mock}_${version}_"*.tar.gz | "${mock}_${version}_"*.zip)
      [ -f "$file" ] || fail "$sums lists $file, which is not in $dist" ;;
    *) fail "$sums lists an unexpected file: $file" ;;
  esac
done <"$sums"

if [ "$errors" -ne 0 ]; then
  echo "release-artifacts: $errors problem(s) found" >&2
  exit 1
fi
echo "release-artifacts: all checks passed for $version (${#want[@]} platforms, provider and kie-mock)" >&2
