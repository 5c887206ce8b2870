#!/usr/bin/env bash
# End-to-end checks of the `unmask analyze` contract (README "JSON schema", "Maps", exit codes)
# on images the project makes itself.
set -u
UNMASK=$1 MAKE_SAMPLES=$2 WORK=$3
rm -rf "$WORK" && mkdir -p "$WORK/in" "$WORK/in2" "$WORK/maps"
"$MAKE_SAMPLES" "$WORK/in" || { echo "sample maker failed"; exit 1; }
cp "$WORK/in/clean.jpg" "$WORK/in2/clean.jpg"   # same file name in another folder

passed=0 failed=0
check() { # check NAME CONDITION...
  local name=$1; shift
  if "$@"; then passed=$((passed + 1)); echo "ok   $name"
  else failed=$((failed + 1)); echo "FAIL $name"; fi
}
png_size() { # prints "WIDTHxHEIGHT" from a PNG's IHDR
  local hex; hex=$(od -An -tx1 -j16 -N8 "$1" | tr -d ' \n')
  echo "$((16#${hex:0:8}))x$((16#${hex:8:8}))"
}

inputs=("$WORK/in/clean.jpg" "$WORK/in/splice.jpg" "$WORK/in/truncated.jpg"
        "$WORK/in/not-an-image.jpg" "$WORK/in/grid-paste.png" "$WORK/in/empty.png"
        "$WORK/in2/clean.jpg" "$WORK/in/does-not-exist.jpg")
"$UNMASK" analyze --json --maps "$WORK/maps" "${inputs[@]}" > "$WORK/out.jsonl" 2> "$WORK/err.txt"
status=$?
check "exit status 1 when some inputs fail" test $status -eq 1
check "one JSON line per input" test "$(wc -l < "$WORK/out.jsonl")" -eq ${#inputs[@]}
check "every line is JSON with schema_version" \
  test "$(jq -r .schema_version "$WORK/out.jsonl" | sort -u)" = "1"
check "lines in input order" \
  test "$(jq -r .file "$WORK/out.jsonl" | tr '\n' ' ')" = "${inputs[*]} "
line() { sed -n "${1}p" "$WORK/out.jsonl"; }
check "truncated JPEG is a corrupt record" test "$(line 3 | jq -r .error.code)" = corrupt
check "text named .jpg is unsupported" test "$(line 4 | jq -r .error.code)" = unsupported-format
check "empty file is an error record" test "$(line 6 | jq -r '.error.code != null')" = true
check "missing file is an io record" test "$(line 8 | jq -r .error.code)" = io
check "good inputs carry the contract fields" test "$(line 1 | jq -r \
  '[.file,.sha256,.format,.width,.height,.verdict.score,.verdict.label,.detectors[0].name,.provenance,.timing_ms.total,.maps.fused] | map(. != null) | all')" = true
check "a pasted piece with its own JPEG grid is at least likely-manipulated" \
  test "$(line 5 | jq -r '.verdict.label | test("manipulated")')" = true
check "verdict score in [0,1]" test "$(jq -r 'select(.verdict) | .verdict.score >= 0 and .verdict.score <= 1' "$WORK/out.jsonl" | sort -u)" = true
check "sha256 of the bytes" test "$(line 1 | jq -r .sha256)" = "$(sha256sum "$WORK/in/clean.jpg" | cut -d' ' -f1)"
check "no maps for failed inputs" test -z "$(ls "$WORK/maps" | grep -e truncated -e not-an-image -e empty)"
check "fused map named <basename>.fused.png" test -f "$WORK/maps/clean.jpg.fused.png"
check "second clean.jpg gets -2" test -f "$WORK/maps/clean.jpg-2.fused.png"
check "JSON maps paths match the files" test "$(line 7 | jq -r .maps.fused)" = "$WORK/maps/clean.jpg-2.fused.png"
all_sizes_ok=true
for f in "$WORK"/maps/*.png; do
  case $f in *grid-paste*) want=640x480 ;; *) want=640x480 ;; esac
  [[ $(png_size "$f") == "$want" ]] || { all_sizes_ok=false; echo "  $f is $(png_size "$f")"; }
done
check "every map at the input's exact size" $all_sizes_ok
check "a map per applicable detector with a map" test "$(line 2 | jq -r '.maps | keys | length')" -ge 3

"$UNMASK" analyze --json "$WORK/in/clean.jpg" > /dev/null; check "exit 0 when all succeed" test $? -eq 0
# Copy-move: a patch copied and turned by 30 degrees; both detectors report the pair and the
# verdict takes it in.
"$UNMASK" analyze --json "$WORK/in/clone.jpg" > "$WORK/clone.json"
check "a copied region is at least likely-manipulated" \
  test "$(jq -r '.verdict.label | test("manipulated")' "$WORK/clone.json")" = true
check "the clone pair is in the JSON with its rotation (either direction)" \
  test "$(jq -r '[.detectors[] | select(.family == "copy-move") | .details.clones[0].transform.rotation_deg | fabs | select(. > 25 and . < 35)] | length' "$WORK/clone.json")" = 2
check "no clone on the clean photo" \
  test "$(jq -r '[.detectors[] | select(.family == "copy-move") | .details.clones | length] | add' "$WORK/out.jsonl" | head -1)" = 0
"$UNMASK" analyze "$WORK/in/splice.jpg" > "$WORK/text.txt"
check "readable output names the verdict" grep -q "Verdict:" "$WORK/text.txt"
"$UNMASK" analyze --json --detectors jpeg-structure "$WORK/in/clean.jpg" > "$WORK/one.json"
check "--detectors runs only those" test "$(jq -r '.detectors | length' "$WORK/one.json")" = 1
"$UNMASK" analyze --detectors no-such "$WORK/in/clean.jpg" > /dev/null 2>&1
check "unknown detector is a usage error" test $? -eq 2
"$UNMASK" analyze --json --max-pixels 1000 "$WORK/in/clean.jpg" > "$WORK/limit.json"
check "pixel limit gives a limit record" test "$(jq -r .error.code "$WORK/limit.json")" = limit
"$UNMASK" analyze --json - < "$WORK/in/clean.jpg" > "$WORK/stdin.json"
check "standard input" test "$(jq -r .width "$WORK/stdin.json")" = 640
"$UNMASK" analyze > /dev/null 2>&1; check "no input is a usage error" test $? -eq 2
"$UNMASK" frobnicate > /dev/null 2>&1; check "unknown command is a usage error" test $? -eq 2
"$UNMASK" analyze --help | grep -q -- "--maps"; check "analyze --help teaches the options" test $? -eq 0
"$UNMASK" detectors | grep -q "Limits:"; check "detectors lists limits" test $? -eq 0

# Provenance: Content Credentials the sample maker signed with a throw-away test key.
AI=$WORK/in/c2pa-ai-generated.jpg EDITED=$WORK/in/c2pa-edited-after-signing.jpg
"$UNMASK" provenance --json "$AI" > "$WORK/prov-ai.json"
check "provenance exit 0 on a signed file" test $? -eq 0
check "signed AI image: credentials valid" \
  test "$(jq -r .provenance.c2pa.validation_state "$WORK/prov-ai.json")" = valid
check "signed AI image: AI declared in the summary" \
  test "$(jq -r .provenance.summary.ai "$WORK/prov-ai.json")" = ai-generated
check "provenance record has no detectors" test "$(jq -r '.detectors // "none"' "$WORK/prov-ai.json")" = none
"$UNMASK" analyze --json "$AI" "$EDITED" > "$WORK/prov-verdicts.jsonl"
check "analyze: AI declaration makes the label" \
  test "$(sed -n 1p "$WORK/prov-verdicts.jsonl" | jq -r .verdict.label)" = ai-generated
check "analyze: bytes changed after signing are manipulated" \
  test "$(sed -n 2p "$WORK/prov-verdicts.jsonl" | jq -r .verdict.label)" = manipulated
check "analyze: the reason cites the failed hard binding" \
  test "$(sed -n 2p "$WORK/prov-verdicts.jsonl" | jq -r '.verdict.reasons[0] | test("dataHash.mismatch")')" = true
"$UNMASK" provenance --json "$WORK/in/clean.jpg" > "$WORK/prov-clean.json"
check "unsigned file: no credentials, said in words" test "$(jq -r \
  '.provenance.c2pa.present == false and (.provenance.summary.statements | length) > 0' "$WORK/prov-clean.json")" = true
"$UNMASK" provenance "$AI" > "$WORK/prov.txt"
check "readable provenance lists the status codes" grep -q "claimSignature.validated" "$WORK/prov.txt"
"$UNMASK" provenance --json "$WORK/in/not-an-image.jpg" > "$WORK/prov-bad.json"
check "provenance of a non-image: unsupported record, exit 1" \
  test $? -eq 1 -a "$(jq -r .error.code "$WORK/prov-bad.json")" = unsupported-format
"$MAKE_SAMPLES" --sign "$WORK/in/clean.jpg" "$WORK/signed.jpg" --ca "$WORK/test-ca.pem"
"$UNMASK" provenance --json --trust-anchors "$WORK/test-ca.pem" "$WORK/signed.jpg" > "$WORK/trusted.json"
check "a signer that chains to --trust-anchors is trusted" \
  test "$(jq -r .provenance.c2pa.validation_state "$WORK/trusted.json")" = trusted
"$UNMASK" provenance --json "$WORK/signed.jpg" > "$WORK/untrusted.json"
check "the same signer without anchors is valid, not trusted" \
  test "$(jq -r .provenance.c2pa.validation_state "$WORK/untrusted.json")" = valid
"$UNMASK" provenance --trust-anchors "$WORK/no-such.pem" "$AI" > /dev/null 2>&1
check "unreadable trust anchors are a usage error" test $? -eq 2
"$UNMASK" provenance --maps "$WORK/maps" "$AI" > /dev/null 2>&1
check "pixel options are refused by provenance" test $? -eq 2
"$UNMASK" provenance --help | grep -q -- "--trust-anchors"
check "provenance --help teaches the options" test $? -eq 0

echo "$passed passed, $failed failed"
test $failed -eq 0
