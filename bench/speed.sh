#!/bin/sh
# Speed and memory of `unmask analyze` on one 4000x3000 JPEG, against plain decoding (djpeg).
#
#   bench/speed.sh [PHOTO]        PHOTO: any image to enlarge (default: a synthetic scene)
#
# Environment: UNMASK (the binary, default build/unmask), OUT (default bench-out),
# RUNS (hyperfine runs per command, default 5).
# The large image is made by `unmask bench --make-large`: bilinear resize to 4000x3000, Gaussian
# noise of sigma 2, baseline JPEG quality 90 (4:2:0). Timing: hyperfine (wall clock, mean of RUNS
# runs after one warm-up); memory: peak resident set size from /usr/bin/time -v.
# Writes OUT/speed.txt (the table), OUT/speed.json (hyperfine's raw numbers).
set -eu

UNMASK=${UNMASK:-build/unmask}
OUT=${OUT:-bench-out}
RUNS=${RUNS:-5}
PHOTO=${1:-synthetic}
BIG="$OUT/big-4000x3000.jpg"

for tool in hyperfine djpeg jq /usr/bin/time; do
    command -v "$tool" >/dev/null 2>&1 || { echo "speed.sh: needs $tool" >&2; exit 2; }
done
[ -x "$UNMASK" ] || { echo "speed.sh: no unmask binary at $UNMASK (set UNMASK=...)" >&2; exit 2; }
mkdir -p "$OUT"

"$UNMASK" bench --make-large "$PHOTO" "$BIG"

# name|command: djpeg first, it is the reference of the ratios.
COMMANDS="djpeg|djpeg '$BIG'
analyze-all|'$UNMASK' analyze --json '$BIG'
analyze-grid|'$UNMASK' analyze --json --detectors grid '$BIG'"

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
    printf '%-14s %10s %10s %8s %12s %8s\n' \
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
            printf "%-14s %10.3f %10.3f %8.1f %12.1f %8.1f\n", n, t, sd, t / bt, m / 1024, m / bm }'
    done <<EOF
$COMMANDS
EOF
    echo
    echo "mean s: hyperfine wall clock, $RUNS runs after 1 warm-up; peak RSS: /usr/bin/time -v."
} | tee "$OUT/speed.txt"
