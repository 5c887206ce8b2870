#!/usr/bin/env bash
# `unmask report`: the file it writes, its exit codes and that it never leaves a partial file.
set -u
UNMASK=$1 MAKE_SAMPLES=$2 WORK=$3
rm -rf "$WORK" && mkdir -p "$WORK/in" "$WORK/out"
"$MAKE_SAMPLES" "$WORK/in" > /dev/null || { echo "sample maker failed"; exit 1; }

passed=0 failed=0
check() { # check NAME CONDITION...
  local name=$1; shift
  if "$@"; then passed=$((passed + 1)); echo "ok   $name"
  else failed=$((failed + 1)); echo "FAIL $name"; fi
}
status_of() { "$@" > /dev/null 2>&1; echo $?; }

R=$WORK/out/report.html
check "report written, exit 0" test "$(status_of "$UNMASK" report "$WORK/in/grid-paste.png" -o "$R")" = 0
check "it is HTML" grep -q '^<!doctype html>' "$R"
check "it names the verdict" grep -q 'um-label-likely-manipulated\|um-label-manipulated' "$R"
check "it carries the SHA-256 of the bytes" \
  grep -q "$(sha256sum "$WORK/in/grid-paste.png" | cut -d' ' -f1)" "$R"
check "no URL to anything outside the file" test -z "$(grep -Eo '(src|href)="?[a-z]+://' "$R")"
check "no temporary file left" test "$(ls "$WORK/out")" = report.html
check "--help teaches, exit 0" test "$(status_of "$UNMASK" report --help)" = 0
"$UNMASK" report --help | grep -q 'Exit status'; check "--help lists the exit codes" test $? = 0
check "no input: usage error 2" test "$(status_of "$UNMASK" report -o "$WORK/out/x.html")" = 2
check "no -o: usage error 2" test "$(status_of "$UNMASK" report "$WORK/in/clean.jpg")" = 2
check "unknown detector: 2" \
  test "$(status_of "$UNMASK" report --detectors nope "$WORK/in/clean.jpg" -o "$WORK/out/x.html")" = 2
check "bad --max-side: 2" \
  test "$(status_of "$UNMASK" report --max-side 3 "$WORK/in/clean.jpg" -o "$WORK/out/x.html")" = 2
check "unreadable image: 1, nothing written" \
  test "$(status_of "$UNMASK" report "$WORK/in/truncated.jpg" -o "$WORK/out/t.html")" = 1 -a ! -e "$WORK/out/t.html"
# The cases below run one cheap detector: they test the writing, not the analysis.
ONE="--detectors grid"
check "missing directory: 3" \
  test "$(status_of "$UNMASK" report $ONE "$WORK/in/clean.jpg" -o "$WORK/no/such/dir/r.html")" = 3
# A failed write keeps the old report whole: a read-only directory refuses the temporary file.
cp "$R" "$WORK/out/before.html"
chmod a-w "$WORK/out"
if [ "$(id -u)" != 0 ]; then
  check "read-only directory: 3" \
    test "$("$UNMASK" report $ONE "$WORK/in/clean.jpg" -o "$R" > /dev/null 2>&1; echo $?)" = 3
  check "the old report is untouched" cmp -s "$R" "$WORK/out/before.html"
fi
chmod u+w "$WORK/out"
# rename() onto a directory fails after the whole file was written: exit 3, no temporary left.
mkdir -p "$WORK/out/dir.html"
check "target is a directory: 3" \
  test "$(status_of "$UNMASK" report $ONE "$WORK/in/clean.jpg" -o "$WORK/out/dir.html")" = 3
check "the temporary file is removed" test -z "$(ls "$WORK/out" | grep -v -e '^report.html$' -e '^before.html$' -e '^dir.html$')"
"$UNMASK" report $ONE "$WORK/in/grid-paste.png" -o "$WORK/out/large.html" 2> /dev/null
check "--max-side makes a smaller file" test "$(status_of "$UNMASK" report --max-side 64 $ONE \
  "$WORK/in/grid-paste.png" -o "$WORK/out/small.html")" = 0 -a \
  "$(stat -c %s "$WORK/out/small.html")" -lt "$(stat -c %s "$WORK/out/large.html")"
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
