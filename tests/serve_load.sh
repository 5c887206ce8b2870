#!/usr/bin/env bash
# Load and fault tests of `unmask serve` (issue 6), loopback only, bounded, stopping by
# themselves:
#  (a) CLIENTS concurrent clients upload IMAGES distinct images: every one 202, then exactly
#      IMAGES rows and IMAGES object files, every analysis finished after exactly one attempt;
#  (d) a full queue answers 503 + Retry-After and keeps nothing of what it refused;
#  (b) HOSTILE malformed or hostile requests: each a 4xx, never a 5xx or a hang, and the store
#      unchanged (rows, object files, no temp file);
#  (c) kill -9 of the server in the middle of a load, restart on the same store: every upload
#      that had been acknowledged is there and analysed, no temp file remains.
# Usage: serve_load.sh UNMASK SERVE_CLIENT WORKDIR [full|small]  (small: the sanitizer build)
set -u
UNMASK=$1 CLIENT=$2 WORK=$3 SCALE=${4:-full}
if [ "$SCALE" = small ]; then
  CLIENTS=20 IMAGES=60 HOSTILE=130 KILL_IMAGES=80
  echo "sanitizer build: smaller counts ($CLIENTS clients, $IMAGES images, $HOSTILE hostile)"
else
  CLIENTS=200 IMAGES=1000 HOSTILE=1000 KILL_IMAGES=400
fi
# The load exercises the server, the store and the queue; three quick detectors keep the
# analysis of 1,000 images within the test's time on two cores (all detectors: the cli test).
DETECTORS=dq,ela,noise-wavelet
TOKEN=load-test-token-0123456789abcdef
rm -rf "$WORK" && mkdir -p "$WORK"

passed=0 failed=0
check() { # check NAME CONDITION...
  local name=$1; shift
  if "$@"; then passed=$((passed + 1)); echo "ok   $name"
  else failed=$((failed + 1)); echo "FAIL $name"; fi
}
SERVER_PID= PORT=
trap '[ -n "$SERVER_PID" ] && kill -9 $SERVER_PID 2>/dev/null' EXIT
start_server() { # start_server STORE LOG ARGS...: sets SERVER_PID and PORT
  local store=$1 log=$2; shift 2
  "$UNMASK" serve --listen 127.0.0.1:0 --store "$store" "$@" 2> "$log" &
  SERVER_PID=$!
  for _ in $(seq 200); do
    PORT=$(grep -o 'http://127.0.0.1:[0-9]*' "$log" | sed 's/.*://')
    [ -n "$PORT" ] && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
  done
  echo "server did not start:"; cat "$log"; return 1
}
stop_server() { # graceful: SIGTERM, then its exit status
  kill -TERM "$SERVER_PID"; wait "$SERVER_PID"; local rc=$?; SERVER_PID=; return $rc
}
objects() { find "$1/objects" -type f | wc -l; }
temp_files() { find "$1/tmp" -type f | wc -l; }
rows() { "$CLIENT" count "$PORT" "$@"; }

echo "== (a) $CLIENTS concurrent clients, $IMAGES distinct images"
start_server "$WORK/a" "$WORK/a.log" --workers 2 --queue 100000 --detectors $DETECTORS || exit 1
"$CLIENT" load "$PORT" $CLIENTS $IMAGES "$WORK/a.acks"
check "every upload answered 202" test $? -eq 0
"$CLIENT" wait "$PORT" 170
check "the queue empties" test $? -eq 0
check "$IMAGES analyses rows" test "$(rows)" -eq $IMAGES
check "$IMAGES object files" test "$(objects "$WORK/a")" -eq $IMAGES
"$CLIENT" verify "$PORT" "$WORK/a.acks" --once
check "every acknowledged upload analysed exactly once" test $? -eq 0
stop_server
check "graceful stop exits 0" test $? -eq 0
check "no temp file left" test "$(temp_files "$WORK/a")" -eq 0

echo "== (d) a full queue"
start_server "$WORK/d" "$WORK/d.log" --workers 1 --queue 2 --detectors $DETECTORS || exit 1
out=$("$CLIENT" load "$PORT" 8 40 "$WORK/d.acks" --tolerate-errors --seed 7000); echo "$out"
acked=$(wc -l < "$WORK/d.acks")
busy=$(echo "$out" | sed -n 's/.* 503: \([0-9]*\) (with Retry-After: \([0-9]*\)).*/\1 \2/p')
check "some uploads refused with 503" test "${busy% *}" -gt 0
check "every 503 carries Retry-After" test "${busy% *}" -eq "${busy#* }"
check "refusals stored nothing (objects == acknowledged)" test "$(objects "$WORK/d")" -eq "$acked"
check "refusals stored nothing (rows == acknowledged)" test "$(rows)" -eq "$acked"
stop_server

echo "== (b) $HOSTILE hostile requests"
start_server "$WORK/b" "$WORK/b.log" --token $TOKEN --max-upload 1000000 --workers 1 \
  --detectors $DETECTORS || exit 1
"$CLIENT" load "$PORT" 1 1 "$WORK/b.acks" --token $TOKEN > /dev/null
"$CLIENT" wait "$PORT" 60 --token $TOKEN
before_rows=$(rows --token $TOKEN) before_files=$(cd "$WORK/b" && find objects tmp -type f | sort | md5sum)
"$CLIENT" hostile "$PORT" $HOSTILE --token $TOKEN
check "every hostile request answered with a 4xx" test $? -eq 0
check "no row added" test "$(rows --token $TOKEN)" -eq "$before_rows"
check "no file added, none left in tmp" \
  test "$(cd "$WORK/b" && find objects tmp -type f | sort | md5sum)" = "$before_files"
check "server still healthy" "$CLIENT" wait "$PORT" 5 --token $TOKEN
stop_server

echo "== (c) kill -9 during a load of $KILL_IMAGES images, then restart"
start_server "$WORK/c" "$WORK/c.log" --workers 2 --queue 100000 --detectors $DETECTORS || exit 1
: > "$WORK/c.acks"
"$CLIENT" load "$PORT" $CLIENTS $KILL_IMAGES "$WORK/c.acks" --tolerate-errors --seed 5000 &
LOAD_PID=$!
for _ in $(seq 600); do
  [ "$(wc -l < "$WORK/c.acks")" -ge $((KILL_IMAGES / 4)) ] && break
  sleep 0.05
done
kill -9 "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null; SERVER_PID=
wait $LOAD_PID
acked=$(wc -l < "$WORK/c.acks")
echo "acknowledged before the kill: $acked of $KILL_IMAGES"
check "the kill came in the middle of the load" test "$acked" -gt 0 -a "$acked" -lt $KILL_IMAGES
start_server "$WORK/c" "$WORK/c2.log" --workers 2 --queue 100000 --detectors $DETECTORS || exit 1
check "restart removed the temp files" test "$(temp_files "$WORK/c")" -eq 0
"$CLIENT" wait "$PORT" 170
check "re-queued analyses finish" test $? -eq 0
"$CLIENT" verify "$PORT" "$WORK/c.acks"
check "every acknowledged upload is stored and analysed" test $? -eq 0
check "object files == rows (no orphan)" test "$(objects "$WORK/c")" -eq "$(rows)"
stop_server

echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
