#!/usr/bin/env bash
# Fuzzes each of pantau's fuzz targets (every func FuzzX in a _test.go file)
# for a bounded time, one after another, and prints a table of the execs,
# the new interesting inputs and the result per target (docs/reliability.md,
# "Bad input"). A failing input is written by go test to the package's
# testdata/fuzz/FuzzX; commit it with the fix. The seed corpora (f.Add and
# testdata/fuzz) already run in every go test.
#
#   bench/fuzz.sh                      # every target, 60 s each
#   FUZZTIME=5m bench/fuzz.sh          # longer
#   FUZZ='FuzzReadCSV|FuzzQuery' bench/fuzz.sh
#   SAVE=12 bench/fuzz.sh              # also copy 12 inputs of each target
#                                      # from the fuzz cache into testdata/fuzz
#
# Environment:
#   FUZZTIME  -fuzztime per target (a duration, or Nx for N execs), default 60s
#   FUZZ      extended regexp selecting targets by name, default all
#   PARALLEL  fuzzing processes per target (-parallel), default 1: the
#             machines are shared; more only with cores to spare
#   MINIMIZE  -fuzzminimizetime, default 100x (execs): minimizing each new
#             interesting input for the default 60 s would take all of a
#             slow target's budget (an import, a workbook, a source query),
#             and go test does not count those execs
#   SAVE      corpus entries to copy per target (default 0)
#   OUT       directory for the logs (default: a new temporary one)
set -euo pipefail
cd "$(dirname "$0")/.."

FUZZTIME=${FUZZTIME:-60s}
PARALLEL=${PARALLEL:-1}
MINIMIZE=${MINIMIZE:-100x}
SAVE=${SAVE:-0}
OUT=${OUT:-$(mktemp -d -t pantau-fuzz.XXXXXX)}
mkdir -p "$OUT"
cache=$(go env GOCACHE)/fuzz

echo "# pantau fuzz run $(date -u +%Y-%m-%dT%H:%M:%SZ), $(go version | cut -d' ' -f3), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# -fuzztime $FUZZTIME -parallel $PARALLEL -fuzzminimizetime $MINIMIZE; logs in $OUT"
printf '%-14s %-18s %10s %12s %12s %8s  %s\n' package target time execs interesting corpus result

status=0
while IFS=: read -r file name; do
  pkg=./$(dirname "$file")
  if [ -n "${FUZZ:-}" ] && ! [[ $name =~ $FUZZ ]]; then continue; fi
  log=$OUT/$name.log
  start=$(date +%s)
  if go test -run '^$' -fuzz "^$name\$" -fuzztime "$FUZZTIME" -fuzzminimizetime "$MINIMIZE" \
    -parallel "$PARALLEL" "$pkg" >"$log" 2>&1; then
    result=ok
  else
    result="FAIL (see $log)"
    status=1
  fi
  took=$(($(date +%s) - start))
  # The last progress line: "fuzz: elapsed: 1m0s, execs: 123 (2/sec), new interesting: 4 (total: 20)".
  last=$(grep -E '^fuzz: elapsed: .*execs: ' "$log" | tail -n1 || true)
  execs=$(sed -nE 's/.*execs: ([0-9]+).*/\1/p' <<<"$last")
  interesting=$(sed -nE 's/.*new interesting: ([0-9]+).*/\1/p' <<<"$last")
  total=$(sed -nE 's/.*\(total: ([0-9]+)\).*/\1/p' <<<"$last")
  printf '%-14s %-18s %9ss %12s %12s %8s  %s\n' "${pkg#./}" "$name" "$took" "${execs:-?}" "${interesting:-?}" "${total:-?}" "$result"
  if [ "$SAVE" -gt 0 ] && found=$cache/$(go list "$pkg")/$name && [ -d "$found" ]; then
    dest=$pkg/testdata/fuzz/$name
    mkdir -p "$dest"
    # Entries spread over the sizes up to 8 KB: the smallest alone are
    # trivial, the biggest bulk.
    find "$found" -type f -size -8k -printf '%s %f\n' | sort -n | cut -d' ' -f2 |
      awk -v n="$SAVE" '{ e[NR] = $0 } END { for (i = 1; i <= n && i <= NR; i++) print e[int((i - 0.5) * NR / n) + 1] }' |
      sort -u | while read -r entry; do
        [ -e "$dest/$entry" ] || cp "$found/$entry" "$dest/$entry"
      done
  fi
done < <(grep -rHo --include='*_test.go' -E '^func Fuzz[A-Za-z0-9_]+' . | sed -E 's|^\./||; s|:func |:|' | sort)
exit $status
