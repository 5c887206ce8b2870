#!/usr/bin/env bash
# Real-browser tests of the web app (`unmask serve`) and of the HTML report (`unmask report`):
# headless Debian Chromium driven by playwright-core (npm), node's own test runner.
#   run.sh UNMASK MAKE_SAMPLES WORK_DIR NODE_DIR
# NODE_DIR holds node_modules/playwright-core (installed there on first use, reused after).
# Screenshots go to WORK_DIR/screenshots, or to $UM_SCREENSHOTS_DIR when set.
# Missing chromium, node or npm is a failure with the reason, never a silent pass.
set -u
UNMASK=$(realpath "$1") MAKE_SAMPLES=$2 WORK=$(realpath -m "$3") NODE_DIR=$(realpath -m "$4")
HERE=$(cd "$(dirname "$0")" && pwd)
PLAYWRIGHT_VERSION=1.65.1
CHROMIUM=${UM_CHROMIUM:-/usr/bin/chromium}

fail() { echo "browser tests: $*" >&2; exit 1; }
[ -x "$CHROMIUM" ] || fail "no Chromium at $CHROMIUM (Debian: apt-get install chromium)"
command -v node > /dev/null || fail "node is not installed (Debian: apt-get install nodejs)"

installed=$(node -p "require('$NODE_DIR/node_modules/playwright-core/package.json').version" 2>/dev/null)
if [ "$installed" != "$PLAYWRIGHT_VERSION" ]; then
  command -v npm > /dev/null || fail "npm is not installed and $NODE_DIR has no playwright-core"
  mkdir -p "$NODE_DIR" && cp "$HERE/package.json" "$NODE_DIR/package.json"
  (cd "$NODE_DIR" && timeout 300 npm install --no-audit --no-fund --loglevel=error) ||
    fail "npm install playwright-core@$PLAYWRIGHT_VERSION failed (is the npm registry reachable?)"
fi

rm -rf "$WORK" && mkdir -p "$WORK/in" "$WORK/store"
SHOTS=${UM_SCREENSHOTS_DIR:-$WORK/screenshots}
mkdir -p "$SHOTS"
"$MAKE_SAMPLES" "$WORK/in" > /dev/null || fail "the sample maker failed"
# The tampered image: a piece pasted with its own JPEG grid (tests/cli.sh pins it at
# likely-manipulated or above).
SAMPLE="$WORK/in/grid-paste.png"
# Named as a user would type it (the report shows the name as given).
(cd "$WORK/in" && "$UNMASK" report grid-paste.png -o "$WORK/report.html") || fail "unmask report failed"

"$UNMASK" serve --listen 127.0.0.1:0 --store "$WORK/store" 2> "$WORK/serve.log" &
SERVER=$!
trap 'kill $SERVER 2> /dev/null; wait $SERVER 2> /dev/null' EXIT
for _ in $(seq 100); do
  URL=$(grep -o 'http://127\.0\.0\.1:[0-9]*/' "$WORK/serve.log" | head -1)
  [ -n "$URL" ] && break
  kill -0 $SERVER 2> /dev/null || fail "unmask serve exited: $(cat "$WORK/serve.log")"
  sleep 0.1
done
[ -n "$URL" ] || fail "unmask serve did not say where it listens"

export UM_BASE_URL=$URL UM_SAMPLE=$SAMPLE UM_REPORT=$WORK/report.html UM_SHOTS=$SHOTS
export UM_WORK=$WORK UM_NODE_DIR=$NODE_DIR UM_CHROMIUM=$CHROMIUM
timeout 240 node --test --test-concurrency=1 "$HERE"/*.test.mjs
status=$?
[ $status -eq 0 ] && echo "browser tests passed; screenshots in $SHOTS"
exit $status
