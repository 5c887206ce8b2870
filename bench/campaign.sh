#!/bin/sh
# The issue-7 scale benchmark: `unmask campaign` on POSTS synthetic posts (default 10,000,000)
# at the defaults of `--preset simulate`: co-share + co-link + near-duplicate text, window 60 s,
# coordinated = weight above the median (CooRTweet's default edge_weight 0.5); target <= 60 s
# wall and <= 4 GB peak RSS on the 2-core machine.
#
#   bench/campaign.sh [POSTS]
#
# Environment: UNMASK (the binary, default build/unmask), OUT (default bench-out/campaign),
# RUNS (hyperfine runs after the /usr/bin/time run; default 0 = none), MPI_NP (also time
# `mpirun -np MPI_NP ... --mpi` when set). The input is made by `unmask campaign simulate`
# (default model, seed 1: about 80 bytes a post, 0.8 GB at 10 M) and removed afterwards unless
# KEEP=1. Prints the simulation time, then wall clock, CPU time, peak RSS and posts per second
# of the detection (GNU time), the machine's load average (the figures are only comparable on
# an idle machine), and the recovery of the planted accounts (precision / recall of the
# accounts flagged coordinated in accounts.csv against truth.csv).
set -eu

UNMASK=${UNMASK:-build/unmask}
OUT=${OUT:-bench-out/campaign}
RUNS=${RUNS:-0}
POSTS=${1:-10000000}
for tool in /usr/bin/time awk; do
    command -v "$tool" >/dev/null 2>&1 || { echo "campaign.sh: needs $tool" >&2; exit 2; }
done
[ -x "$UNMASK" ] || { echo "campaign.sh: no unmask binary at $UNMASK (set UNMASK=...)" >&2; exit 2; }
mkdir -p "$OUT"
POSTS_CSV="$OUT/posts.csv"
TRUTH_CSV="$OUT/truth.csv"

/usr/bin/time -f "%e %U %M" -o "$OUT/sim.time" \
    "$UNMASK" campaign simulate --posts "$POSTS" -o "$POSTS_CSV" --truth "$TRUTH_CSV"
read -r sim_wall sim_user sim_rss <"$OUT/sim.time"
echo "simulate: $POSTS posts, $(wc -c <"$POSTS_CSV") bytes in ${sim_wall} s wall (${sim_user} s user, ${sim_rss} KB)"

set -- campaign "$POSTS_CSV" --preset simulate
/usr/bin/time -v -o "$OUT/campaign.time" "$UNMASK" "$@" -o "$OUT/net" >"$OUT/summary.txt"
awk -v posts="$POSTS" -F': ' '
    /Elapsed \(wall clock\)/ { n = split($2, t, ":"); wall = 0
                               for (i = 1; i <= n; i++) wall = wall * 60 + t[i] }
    /User time/ { user = $2 } /System time/ { sys = $2 }
    /Maximum resident set size/ { rss = $2 }
    END { printf "campaign: %.2f s wall, %.2f s user + %.2f s system, peak RSS %.0f MB, %.0f posts/s\n",
                 wall, user, sys, rss / 1024, posts / wall }' "$OUT/campaign.time"
echo "load average (1, 5, 15 min): $(cut -d' ' -f1-3 /proc/loadavg)"
head -n 3 "$OUT/summary.txt"

awk -F, 'FNR == 1 { next }
    FILENAME ~ /truth.csv$/ { planted[$1] = 1; np++; next }
    $9 == 1 { found++; if ($1 in planted) tp++ }
    END { printf "recovery: %d accounts found, %d planted, precision %.3f, recall %.3f\n",
                 found, np, found ? tp / found : 0, np ? tp / np : 0 }' \
    "$TRUTH_CSV" "$OUT/net/accounts.csv"

if [ "$RUNS" -gt 0 ] && command -v hyperfine >/dev/null 2>&1; then
    hyperfine --runs "$RUNS" --export-json "$OUT/hyperfine.json" \
        "'$UNMASK' $* -o '$OUT/net-h'"
fi
if [ -n "${MPI_NP:-}" ]; then
    /usr/bin/time -f "mpirun -np $MPI_NP: %e s wall, %M KB peak RSS of one rank" \
        mpirun --allow-run-as-root --oversubscribe -np "$MPI_NP" "$UNMASK" "$@" --mpi \
        -o "$OUT/net-mpi" >/dev/null
    for f in edges.csv accounts.csv groups.csv summary.json; do
        cmp -s "$OUT/net/$f" "$OUT/net-mpi/$f" || echo "MPI output differs: $f"
    done
fi
[ "${KEEP:-0}" = 1 ] || rm -f "$POSTS_CSV"
