#!/bin/sh
# Speed and memory of `unmask analyze` on one 4000x3000 JPEG, against plain decoding (djpeg), of
# the two copy-move detectors on three 4000x3000 PNGs (a photo with a rotated clone, a page of
# text, tiles: repeated structure must not blow up time or memory), and of `unmask provenance` on
# that JPEG carrying Content Credentials and on a 1024x1024 PNG (where the Stable Diffusion
# watermark decoder runs).
#
#   bench/speed.sh [PHOTO]        PHOTO: any image to enlarge (default: a synthetic scene)
#
# Environment: UNMASK (the binary, default build/unmask), MAKE_SAMPLES (the project's sample
# maker, default build/um_make_samples: it signs the large JPEG with a throw-away test key and
# draws the PNGs), OUT (default bench-out), RUNS (hyperfine runs per command, default 5).
# The large image is made by `unmask bench --make-large`: bilinear resize to 4000x3000, Gaussian
# noise of sigma 2, baseline JPEG quality 90 (4:2:0). Timing: hyperfine (wall clock, mean of RUNS
# runs after one warm-up); memory: peak resident set size from /usr/bin/time -v.
# Writes OUT/speed.txt (the table), OUT/speed.json (hyperfine's raw numbers).
set -eu

UNMASK=${UNMASK:-build/unmask}
MAKE_SAMPLES=${MAKE_SAMPLES:-build/um_make_samples}
OUT=${OUT:-bench-out}
RUNS=${RUNS:-5}
PHOTO=${1:-synthetic}
BIG="$OUT/big-4000x3000.jpg"
SIGNED="$OUT/big-4000x3000-c2pa.jpg"
SQUARE="$OUT/photo-1024x1024.png"
CLONE="$OUT/clone-4000x3000.png"
TEXT="$OUT/text-4000x3000.png"
TILES="$OUT/tiles-4000x3000.png"
COPYMOVE="--detectors copymove-dense,copymove-keypoint"

for tool in hyperfine djpeg jq /usr/bin/time; do
    command -v "$tool" >/dev/null 2>&1 || { echo "speed.sh: needs $tool" >&2; exit 2; }
done
[ -x "$UNMASK" ] || { echo "speed.sh: no unmask binary at $UNMASK (set UNMASK=...)" >&2; exit 2; }
mkdir -p "$OUT"

"$UNMASK" bench --make-large "$PHOTO" "$BIG"
"$MAKE_SAMPLES" --sign "$BIG" "$SIGNED" --ai
"$MAKE_SAMPLES" --photo 1024 1024 "$SQUARE"
"$MAKE_SAMPLES" --clone 4000 3000 "$CLONE"
"$MAKE_SAMPLES" --text 4000 3000 "$TEXT"
"$MAKE_SAMPLES" --tiles 4000 3000 "$TILES"

# name|command: djpeg first, it is the reference of the ratios.
COMMANDS="djpeg|djpeg '$BIG'
analyze-all|'$UNMASK' analyze --json '$BIG'
analyze-grid|'$UNMASK' analyze --json --detectors grid '$BIG'
copymove-clone|'$UNMASK' analyze --json $COPYMOVE '$CLONE'
copymove-text|'$UNMASK' analyze --json $COPYMOVE '$TEXT'
copymove-tiles|'$UNMASK' analyze --json $COPYMOVE '$TILES'
provenance-12mp|'$UNMASK' provenance --json '$SIGNED'
provenance-1mp-png|'$UNMASK' provenance --json '$SQUARE'"

set --
while IFS='|' read -r name cmd; do
    set -- "$@" -n "$name" "$cmd > /dev/null"
done <<EOF
$COMMANDS
EOF
hyperfine --style basic --warmup 1 --runs "$RUNS" --export-json "$OUT/speed.json" "$@" >&2

# Peak resident memory in KiB of one run of a command.
peak_rss() {
    /usr/bin/time -v sh -c "exec $1 > /dev/null 2>&1" 2>&1 >/dev/null |
        awk -F: '/Maximum resident set size/ { gsub(/ /, "", $2); print $2 }'
}

{
    echo "unmask speed on $(basename "$BIG") (4000x3000, 12.0 MP), source: $PHOTO"
    cpu=$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)
    echo "machine: $(uname -srm), $(nproc) cores, $cpu"
    echo "unmask: $("$UNMASK" version 2>/dev/null | head -n 1)"
    echo
    printf '%-18s %10s %10s %8s %12s %8s\n' \
        command "mean s" "stddev s" "x djpeg" "peak RSS MB" "x djpeg"
    base_t=""
    base_m=""
    while IFS='|' read -r name cmd; do
        # shellcheck disable=SC2016 # $n is jq's own variable
        pick='.results[] | select(.command == $n)'
        t=$(jq -r --arg n "$name" "$pick | .mean" "$OUT/speed.json")
        sd=$(jq -r --arg n "$name" "$pick | .stddev" "$OUT/speed.json")
        m=$(peak_rss "$cmd")
        [ -n "$base_t" ] || { base_t=$t; base_m=$m; }
        awk -v n="$name" -v t="$t" -v sd="$sd" -v m="$m" -v bt="$base_t" -v bm="$base_m" 'BEGIN {
            printf "%-18s %10.3f %10.3f %8.1f %12.1f %8.1f\n", n, t, sd, t / bt, m / 1024, m / bm }'
    done <<EOF
$COMMANDS
EOF
    echo
    echo "mean s: hyperfine wall clock, $RUNS runs after 1 warm-up; peak RSS: /usr/bin/time -v."
    echo
    echo "provenance stages (ms, as unmask measures them inside one run, median of $RUNS runs):"
    for f in "$SIGNED" "$SQUARE"; do
        for _ in $(seq "$RUNS"); do "$UNMASK" provenance --json "$f"; done |
            jq -s -r --arg f "$(basename "$f")" '
              def med: sort | .[length / 2 | floor];
              "  \($f): c2pa \(map(.provenance.timing_ms.c2pa) | med | . * 10 | round / 10)," +
              " watermark \(map(.provenance.timing_ms.watermark) | med | . * 10 | round / 10)," +
              " provenance total \(map(.provenance.timing_ms.total) | med | . * 10 | round / 10)," +
              " C2PA state \(.[0].provenance.c2pa.validation_state // "none")"'
    done
} | tee "$OUT/speed.txt"
