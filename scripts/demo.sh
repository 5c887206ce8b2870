#!/usr/bin/env bash
# make demo: analyse the bundled example images (examples/, made by the project itself with
# um_make_samples) and write readable summaries, JSON Lines and heatmaps into OUT.
set -euo pipefail
UNMASK=${1:-build/unmask}
OUT=${2:-demo-out}
cd "$(dirname "$0")/.."
rm -rf "$OUT" && mkdir -p "$OUT/maps"
shopt -s nullglob
images=(examples/*.jpg examples/*.png)
echo "unmask demo: analysing ${#images[@]} example images into $OUT/"
echo
# The readable summary a person reads, then the machine-readable records with heatmaps.
"$UNMASK" analyze "${images[@]}" | tee "$OUT/summary.txt" || true
"$UNMASK" analyze --json --maps "$OUT/maps" "${images[@]}" > "$OUT/results.jsonl" || true
echo
echo "Written: $OUT/summary.txt, $OUT/results.jsonl ($(wc -l < "$OUT/results.jsonl") records),"
echo "         $(ls "$OUT/maps" | wc -l) heatmaps in $OUT/maps/ (open *.fused.overlay.png first)."
