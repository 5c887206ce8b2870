#!/usr/bin/env bash
# Installs the Debian packages unmask needs to build, test and benchmark.
# Only Debian's own packages, through apt-get; nothing from any other source.
# Run as root (CI and `make demo`/`make test` call it); as another user it only reports what is missing.
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config
  libjpeg62-turbo-dev libjpeg-turbo-progs   # decoding + DCT coefficients; djpeg as the speed baseline
  libpng-dev libtiff-dev libwebp-dev libheif-dev
  libjansson-dev libfftw3-dev libssl-dev zlib1g-dev
  libcbor-dev libexpat1-dev                  # provenance: C2PA claims (CBOR), XMP
  libvlfeat-dev                              # copy-move: SIFT keypoints
  libmicrohttpd-dev libsqlite3-dev sqlite3   # unmask serve: web app and case store
  chromium                                   # browser tests of the report and the web app
  libigraph-dev libopenmpi-dev openmpi-bin   # unmask campaign: groups, multi-process mode
  clang libclang-rt-14-dev libfuzzer-14-dev # sanitizer builds and the libFuzzer target
  hyperfine jq                              # published timings; JSON checks in tests/cli.sh
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
  exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "install-deps: missing Debian packages: ${missing[*]}" >&2
  echo "install-deps: run as root, or: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
