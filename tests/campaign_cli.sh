#!/usr/bin/env bash
# `unmask campaign` end to end on hand-made posts: outputs, the coordinated flag, the readable
# summary, exit statuses (0 done, 1 unreadable input or --strict, 2 usage, 3 outputs not
# written) and malformed rows reported with their line numbers; and the `unmask campaign
# simulate` command (options, files, exit statuses; its generator is tested by test_simulate).
# usage: campaign_cli.sh UNMASK WORK_DIR
set -u
UNMASK=${1:?usage: campaign_cli.sh UNMASK WORK_DIR}
WORK=${2:?usage: campaign_cli.sh UNMASK WORK_DIR}
rm -rf "$WORK"
mkdir -p "$WORK"
fails=0
check() { # check DESCRIPTION COMMAND...
  local what=$1
  shift
  if "$@"; then echo "ok   $what"; else echo "FAIL $what"; fails=$((fails + 1)); fi
}
status() { # status EXPECTED COMMAND... : the command's exit status is EXPECTED
  local want=$1
  shift
  "$@" >"$WORK/out" 2>"$WORK/err"
  [ $? -eq "$want" ]
}

cat >"$WORK/posts.csv" <<'CSV'
object_id,account_id,content_id,timestamp
o1,A,a1,1000
o1,B,b1,1030
o2,A,a2,2000
o2,B,b2,2059
o2,C,c1,2200
o3,B,b3,3000
o3,C,c2,yesterday
o3,C,c3,3010
CSV

check "help exits 0" status 0 "$UNMASK" campaign --help
check "no output dir is a usage error" status 2 "$UNMASK" campaign "$WORK/posts.csv"
check "bad window is a usage error" status 2 "$UNMASK" campaign "$WORK/posts.csv" -o "$WORK/o" --window -5
check "unknown preset is a usage error" status 2 "$UNMASK" campaign "$WORK/posts.csv" -o "$WORK/o" --preset nope
check "unknown kind is a usage error" status 2 "$UNMASK" campaign "$WORK/posts.csv" -o "$WORK/o" --kinds lnk
check "missing input exits 1" status 1 "$UNMASK" campaign "$WORK/none.csv" -o "$WORK/o"
check "malformed row is skipped, exit 0" status 0 "$UNMASK" campaign "$WORK/posts.csv" -o "$WORK/net"
check "malformed row reported with its line" grep -q "line 8: unreadable timestamp" "$WORK/err"
check "summary in plain words" grep -q "linking 3 accounts by 2 edges" "$WORK/out"
for f in edges.csv accounts.csv groups.csv network.graphml network.gexf summary.json; do
  check "writes $f" test -s "$WORK/net/$f"
done
# A-B: two pairs (30 s and 59 s) on two objects; B-C: one pair on o3 (10 s); A-C too far apart.
# The median weight is 1.5: A-B is coordinated, B-C is not (but stays in the table).
check "edge A-B, coordinated" grep -qx "A,B,2,2,44.500,2,2,1.0000,1,share:o1;share:o2" "$WORK/net/edges.csv"
check "edge B-C, not coordinated" grep -qx "B,C,1,1,10.000,1,1,1.0000,0,share:o3" "$WORK/net/edges.csv"
check "account C on an edge, not coordinated, in no group" grep -q "^C,1,1,.*,0,0,0$" "$WORK/net/accounts.csv"
check "account A coordinated, group 1" grep -q "^A,1,2,.*,1,1,1$" "$WORK/net/accounts.csv"
check "summary names the coordinated part" grep -q "^1 edge on 2 accounts weighs more than 1.50" "$WORK/out"
check "GraphML flags the edge" grep -q '<data key="coordinated">false</data>' "$WORK/net/network.graphml"
check "no edge A-C" bash -c "! grep -q '^A,C,' '$WORK/net/edges.csv'"
check "--strict makes it fatal" status 1 "$UNMASK" campaign "$WORK/posts.csv" -o "$WORK/s" --strict
check "--strict names the line" grep -q "line 8" "$WORK/err"
check "unwritable output exits 3" status 3 "$UNMASK" campaign "$WORK/posts.csv" -o "$WORK/posts.csv/x"
check "percentile 0" status 0 "$UNMASK" campaign "$WORK/posts.csv" -o "$WORK/p" --edge-weight-percentile 0
check "percentile 0: both edges coordinated" test "$(grep -c ',1,share:' "$WORK/p/edges.csv")" -eq 2
check "percentile 0: one group of 3" grep -q '^component,1,3,2,3,' "$WORK/p/groups.csv"
check "--kinds link without a URL column is a usage error" status 2 "$UNMASK" campaign "$WORK/posts.csv" -o "$WORK/o" --kinds link
check "... naming the missing option" grep -q "needs a column: give --url" "$WORK/err"
check "help gives the near-text default" bash -c "'$UNMASK' campaign --help | grep -q 'Jaccard needed (0.6)'"
# the same posts as JSON Lines from standard input, with column options
sed 1d "$WORK/posts.csv" | grep -v yesterday |
  awk -F, '{printf "{\"obj\":\"%s\",\"user\":{\"id\":\"%s\"},\"id\":\"%s\",\"t\":%s}\n",$1,$2,$3,$4}' >"$WORK/posts.jsonl"
check "JSON Lines from stdin" status 0 bash -c "'$UNMASK' campaign - -o '$WORK/j' --object obj --account user.id --content id --time t < '$WORK/posts.jsonl'"
check "JSON Lines gives the same edges" cmp -s "$WORK/net/edges.csv" "$WORK/j/edges.csv"
# unmask campaign simulate: the command around the generator
SIM=("$UNMASK" campaign simulate)
check "simulate --help exits 0" status 0 "${SIM[@]}" --help
check "simulate without --posts is a usage error" status 2 "${SIM[@]}" -o "$WORK/sim.csv"
check "simulate bad number is a usage error" status 2 "${SIM[@]}" --posts 12x -o "$WORK/sim.csv"
check "simulate unknown option is a usage error" status 2 "${SIM[@]}" --posts 100 --frobnicate 1 -o "$WORK/sim.csv"
check "simulate inconsistent sizes are a usage error" status 2 "${SIM[@]}" --posts 100 -o "$WORK/sim.csv"
check "... with the reason" grep -q "planted rows" "$WORK/err"
check "simulate unwritable file exits 1" status 1 "${SIM[@]}" --posts 100 --groups 0 -o /nonexistent-dir/x.csv
check "simulate writes posts and truth" status 0 "${SIM[@]}" --posts 5000 --seed 3 -o "$WORK/sim.csv" --truth "$WORK/truth.csv"
check "simulate header" test "$(head -n 1 "$WORK/sim.csv")" = "content_id,account_id,timestamp,object_id,url,hashtag,text,image"
check "simulate rows" test "$(wc -l <"$WORK/sim.csv")" -eq 5001
check "simulate truth: 80 accounts" test "$(wc -l <"$WORK/truth.csv")" -eq 81
check "simulate --opt=value and -o - give the same bytes" bash -c "'$UNMASK' campaign simulate --posts=5000 --seed=3 -o - | cmp -s - '$WORK/sim.csv'"
check "the simulate preset reads it" status 0 "$UNMASK" campaign "$WORK/sim.csv" --preset simulate -o "$WORK/simnet"
check "simulate preset: near-text by default" grep -q '"near-text": [1-9]' "$WORK/simnet/summary.json"
check "simulate preset: no hashtag by default" bash -c "! grep -q '\"hashtag\"' '$WORK/simnet/summary.json'"
[ "$fails" -eq 0 ] || { echo "$fails check(s) failed"; exit 1; }
echo "all campaign CLI checks passed"
