#!/usr/bin/env bash
# Runs pantau's national-scale benchmarks (docs/benchmarks.md) and prints the
# machine, the raw results, and a summary of medians with the ratios the
# goals are stated in.
#
#   bench/run.sh                    # every benchmark, -count 6
#   COUNT=10 bench/run.sh           # more samples
#   BENCH='Scrape|Render' bench/run.sh
#   PANTAU_BENCH_SCALE=1,10 COUNT=3 BENCH='^BenchmarkRefreshSQL$' bench/run.sh
#                                   # the SQL refresh at two data volumes
#
# Environment:
#   COUNT              samples per benchmark (go test -count), default 6
#   BENCH              -bench regexp, default the four documented ones
#   OUT                directory for bench.txt (default: a new temporary one)
#   PANTAU_BENCH_CACHE where the demo SQLite source (about 10 s to generate,
#                      ~300 MB at Scale 1; ~2 min, ~3 GB at Scale 10) is kept
#                      between runs; default ${XDG_CACHE_HOME:-~/.cache}/pantau-bench.
#                      Set it to "" to generate a fresh one in a temporary
#                      directory.
#   PANTAU_BENCH_SCALE demo data scale(s) of BenchmarkRefreshSQL, a list
#                      separated by commas ("1,10"); default 1 (0.5 % of real
#                      household volumes). Each scale is a sub-benchmark
#                      (BenchmarkRefreshSQL/<driver>/scale=N) with its own
#                      SQLite file and PostgreSQL copy, all kept until the
#                      run ends: mind the disk (df -h) above Scale 10.
#   PANTAU_TEST_POSTGRES PostgreSQL admin DSN (see source/sourcetest); the
#                      postgres half of BenchmarkRefreshSQL is skipped when
#                      the server is unreachable, unless CI is set.
#   BENCHSTAT=0        skip benchstat (run only if it resolves).
#   TIMEOUT            go test -timeout, default 60m (raise it for large scales).
set -euo pipefail

cd "$(dirname "$0")/.."

COUNT=${COUNT:-6}
BENCH=${BENCH:-'^Benchmark(RefreshNational|Render|ScrapeNational|RefreshSQL)$'}
OUT=${OUT:-$(mktemp -d -t pantau-bench-XXXXXX)}
mkdir -p "$OUT"
if [ -z "${PANTAU_BENCH_CACHE+set}" ]; then
	export PANTAU_BENCH_CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/pantau-bench"
fi
if [ -n "$PANTAU_BENCH_CACHE" ]; then
	mkdir -p "$PANTAU_BENCH_CACHE"
fi

echo "== machine"
echo "date:       $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "cpu:        $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
echo "cores:      $(nproc) (GOMAXPROCS ${GOMAXPROCS:-$(nproc)})"
echo "memory:     $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
echo "os:         $(uname -sr)"
echo "go:         $(go version)"
if command -v psql >/dev/null 2>&1; then
	echo "postgres:   $(psql "${PANTAU_TEST_POSTGRES:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}" -XAtc 'SHOW server_version' 2>/dev/null || echo unreachable)"
fi
echo "disk:       $(df -h "${PANTAU_BENCH_CACHE:-${TMPDIR:-/tmp}}" 2>/dev/null | awk 'NR==2 {print $4 " free"}') (demo data), scale(s) ${PANTAU_BENCH_SCALE:-1}"
echo "load:       $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min) before the run"
echo "commit:     $(git rev-parse --short HEAD 2>/dev/null || echo none)$(git diff --quiet 2>/dev/null || echo ' + local changes')"
echo

echo "== go test ./collector -run '^\$' -bench '$BENCH' -benchmem -count $COUNT"
go test ./collector -run '^$' -bench "$BENCH" -benchmem -count "$COUNT" -timeout "${TIMEOUT:-60m}" -v 2>&1 |
	grep -v -e '^=== ' | tee "$OUT/bench.txt"
echo "load:       $(cut -d' ' -f1-3 /proc/loadavg) after the run"
echo

echo "== medians of $COUNT samples (raw results: $OUT/bench.txt)"
awk '
/^Benchmark/ && $2 ~ /^[0-9]+$/ {
	name = $1; sub(/-[0-9]+$/, "", name)
	if (!(name in seen)) { seen[name] = 1; order[++n] = name }
	for (i = 3; i + 1 <= NF; i += 2) {
		key = name SUBSEP $(i+1)
		if (!(key in cnt)) units[name] = units[name] " " $(i+1)
		vals[key, ++cnt[key]] = $i
	}
}
function median(key,   k, j, t, m, a) {
	m = cnt[key]
	for (k = 1; k <= m; k++) a[k] = vals[key, k] + 0
	for (k = 2; k <= m; k++) { t = a[k]; for (j = k - 1; j >= 1 && a[j] > t; j--) a[j+1] = a[j]; a[j+1] = t }
	return m % 2 ? a[(m+1)/2] : (a[m/2] + a[m/2+1]) / 2
}
function get(name, unit) { return ((name SUBSEP unit) in cnt) ? median(name SUBSEP unit) : "" }
END {
	for (i = 1; i <= n; i++) {
		name = order[i]
		printf "%s\n", name
		split(substr(units[name], 2), us, " ")
		for (k = 1; k in us; k++) {
			v = median(name SUBSEP us[k])
			if (us[k] == "ns/op") printf "    %-14s %14.3f ms\n", "time/op", v / 1e6
			else if (v == int(v) || v >= 1000) printf "    %-14s %14.0f\n", us[k], v
			else printf "    %-14s %14.4f\n", us[k], v
		}
	}
	print ""
	print "== goals"
	for (k = 1; k <= 2; k++) {
		x = k == 1 ? "full" : "default"
		s = get("BenchmarkScrapeNational/" x "/gzip", "ns/op")
		if (s != "") printf "scrape, %-7s exposure, gzip:     %.3f ms = %.3f of the 5 ms budget\n", x, s / 1e6, s / 5e6
		s = get("BenchmarkScrapeNational/" x "/gzip-tcp", "ns/op")
		if (s != "") printf "scrape, %-7s exposure, gzip over loopback: %.3f ms (%.0f bytes)\n", x, s / 1e6, get("BenchmarkScrapeNational/" x "/gzip-tcp", "bytes")
		s = get("BenchmarkScrapeNational/" x "/identity", "ns/op")
		if (s != "") printf "scrape, %-7s exposure, identity: %.1f ms = %.2f of the 5 ms budget (Prometheus always asks for gzip)\n", x, s / 1e6, s / 5e6
	}
	m = get("BenchmarkRefreshNational", "ns/op"); r = get("BenchmarkRender", "ns/op")
	if (m != "" && r != "") printf "render / refresh from memory: %.2f\n", r / m
	# BenchmarkRefreshSQL/<driver>/scale=<scale>
	for (i = 1; i <= n; i++) {
		name = order[i]
		if (name !~ /^BenchmarkRefreshSQL\// || get(name, "sql-s") == "") continue
		label = substr(name, length("BenchmarkRefreshSQL/") + 1)
		printf "refresh, %-19s sql %.3f s, build %.3f s after the last query: build/sql %.3f; all of pantau replayed from memory %.3f s: replay/sql %.3f\n", \
			label ":", get(name, "sql-s"), get(name, "build-s"), get(name, "build/sql"), get(name, "replay-s"), get(name, "replay/sql")
		if (get(name, "cpu/sql") != "")
			printf "  CPU time of pantau alone %.3f s per refresh (replayed; the process used %.3f s in the real refresh): cpu/sql %.3f (goal < 0.10)\n", \
				get(name, "replay-cpu-s"), get(name, "cpu-s"), get(name, "cpu/sql")
		if (get(name, "cpu/db-cpu") != "")
			printf "  CPU of the database %.3f s per refresh: pantau CPU / database CPU %.3f\n", get(name, "db-cpu-s"), get(name, "cpu/db-cpu")
		s = get("BenchmarkScrapeNational/full/gzip", "ns/op")
		if (s != "") printf "  a gzip scrape (full exposure) costs %.5f of this refresh\n", s / get(name, "ns/op")
		drv = label; sub(/\/.*/, "", drv)
		sc = label; if (!sub(/.*\/scale=/, "", sc)) continue
		sc += 0
		if (!(drv in lo) || sc < losc[drv]) { lo[drv] = name; losc[drv] = sc }
		if (!(drv in hi) || sc > hisc[drv]) { hi[drv] = name; hisc[drv] = sc }
	}
	# Several scales: how each figure grows with the household tables, and
	# a straight line through the smallest and largest scale taken to real
	# volume (Scale 200), build-s held at the largest scale. An extrapolation.
	for (drv in lo) {
		if (losc[drv] == hisc[drv]) continue
		a = lo[drv]; z = hi[drv]; k = hisc[drv] / losc[drv]
		printf "scaling, %-9s scale %g -> %g (x%g rows): sql-s x%.2f, replay-cpu-s x%.2f, cpu/sql %.3f -> %.3f\n", \
			drv ":", losc[drv], hisc[drv], k, get(z, "sql-s") / get(a, "sql-s"), get(z, "replay-cpu-s") / get(a, "replay-cpu-s"), \
			get(a, "cpu/sql"), get(z, "cpu/sql")
		slope = (get(z, "sql-s") - get(a, "sql-s")) / (hisc[drv] - losc[drv])
		sql200 = get(z, "sql-s") + slope * (200 - hisc[drv])
		printf "  extrapolated, linear in scale: sql-s %.3f s + %.4f s per unit of scale; at Scale 200 sql-s ~%.1f s, cpu/sql ~%.3f\n", \
			get(a, "sql-s") - slope * losc[drv], slope, sql200, get(z, "replay-cpu-s") / sql200
	}
}' "$OUT/bench.txt"

if [ "${BENCHSTAT:-1}" != 0 ] && timeout 120 go run golang.org/x/perf/cmd/benchstat@latest -h >/dev/null 2>&1; then
	echo
	echo "== benchstat"
	go run golang.org/x/perf/cmd/benchstat@latest "$OUT/bench.txt"
fi
