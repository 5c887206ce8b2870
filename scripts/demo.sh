#!/usr/bin/env bash
# make demo: analyse the bundled example images (examples/, made by the project itself with
# um_make_samples) and write readable summaries, JSON Lines and heatmaps into OUT.
# Two images with Content Credentials are signed afresh each time (a throw-away test key whose
# certificate lasts a year, so they are not kept in examples/): one its signer declares
# AI-generated, one whose bytes were changed after signing.
set -euo pipefail
UNMASK=${1:-build/unmask}
OUT=${2:-demo-out}
MAKE_SAMPLES=${3:-$(dirname "$UNMASK")/um_make_samples}
cd "$(dirname "$0")/.."
rm -rf "$OUT" && mkdir -p "$OUT/maps" "$OUT/made"
"$MAKE_SAMPLES" "$OUT/made"
shopt -s nullglob
images=(examples/*.jpg examples/*.png "$OUT"/made/c2pa-*.jpg)
echo "unmask demo: analysing ${#images[@]} example images into $OUT/"
echo
# The readable summary a person reads, then the machine-readable records with heatmaps.
"$UNMASK" analyze "${images[@]}" | tee "$OUT/summary.txt" || true
"$UNMASK" analyze --json --maps "$OUT/maps" "${images[@]}" > "$OUT/results.jsonl" || true
# What the signed files say about themselves.
"$UNMASK" provenance "$OUT"/made/c2pa-*.jpg | tee "$OUT/provenance.txt" || true
echo
echo "Written: $OUT/summary.txt, $OUT/provenance.txt, $OUT/results.jsonl ($(wc -l < "$OUT/results.jsonl") records),"
echo "         $(ls "$OUT/maps" | wc -l) heatmaps in $OUT/maps/ (open *.fused.overlay.png first)."
