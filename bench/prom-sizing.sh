#!/usr/bin/env bash
# Measures what pantau costs a real Prometheus (docs/benchmarks.md, "Sizing
# Prometheus"): for a kabupaten, a province and the nation, with the default
# exposure and with every series exposed, it serves the demo data with
# 'pantau serve', lets a fresh Prometheus (the Debian package, on loopback,
# in its own temporary directory) scrape it SCRAPES times, and prints one
# row per run:
#
#   head series   prometheus_tsdb_head_series at the end
#   scrape s      scrape_duration_seconds of the pantau job: median and max
#                 over the run (the time Prometheus took to fetch and ingest
#                 one scrape)
#   RSS MB        Prometheus' resident memory at the end, and its peak (VmHWM)
#   B/sample      bytes on disk (WAL + head chunks) per sample appended
#
#   bench/prom-sizing.sh
#   SCRAPES=10 INTERVAL=5s bench/prom-sizing.sh
#   RUNS='nation:full' bench/prom-sizing.sh
#
# Environment:
#   SCRAPES    scrapes per run, default 30
#   INTERVAL   scrape interval (and timeout), default 4s
#   RUNS       space-separated scope:exposure[:interval] runs; scope is
#              kabupaten (32.16, Kabupaten Bekasi), province (32, Jawa Barat)
#              or nation; exposure is default or full. Default: all six, the
#              nation with full exposure every 10s (a scrape of it takes
#              Prometheus several seconds to ingest).
#   OUT        directory for the demo data, logs and the results (default: a
#              new temporary directory; the demo data is reused from it)
#   PROMETHEUS path of the prometheus binary, default /usr/bin/prometheus
set -euo pipefail

cd "$(dirname "$0")/.."

SCRAPES=${SCRAPES:-30}
INTERVAL=${INTERVAL:-4s}
RUNS=${RUNS:-"kabupaten:default province:default nation:default kabupaten:full province:full nation:full:10s"}
OUT=${OUT:-$(mktemp -d -t pantau-sizing-XXXXXX)}
PROMETHEUS=${PROMETHEUS:-/usr/bin/prometheus}
mkdir -p "$OUT"

pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# wait_for URL SECONDS: until URL answers 200.
wait_for() {
	local deadline=$((SECONDS + $2))
	until curl -fs -o /dev/null "$1"; do
		if ((SECONDS > deadline)); then
			echo "timed out waiting for $1" >&2
			return 1
		fi
		sleep 0.5
	done
}

# promql PROM QUERY: the first value of an instant query, or empty.
promql() {
	curl -fs "$1/api/v1/query" --data-urlencode "query=$2" |
		python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else "")'
}

echo "== machine"
echo "date:       $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "cpu:        $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(nproc) cores"
echo "memory:     $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
echo "prometheus: $("$PROMETHEUS" --version 2>&1 | head -1)"
echo "commit:     $(git rev-parse --short HEAD 2>/dev/null || echo none)$(git diff --quiet 2>/dev/null || echo ' + local changes')"
echo "load:       $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min) before the runs"
echo "runs:       $SCRAPES scrapes each, every $INTERVAL unless a run says otherwise; output in $OUT"
echo

go build -o "$OUT/pantau" ./cmd/pantau

# The demo generates the national data set and the store with this year's
# targets; it is stopped as soon as it serves.
if [ ! -f "$OUT/data/dinsos-demo.db" ]; then
	port=$(free_port)
	"$OUT/pantau" demo --data-dir "$OUT/data" --listen "127.0.0.1:$port" >"$OUT/demo.log" 2>&1 &
	demo=$!
	pids+=("$demo")
	wait_for "http://127.0.0.1:$port/readyz" 600
	kill "$demo"
	wait "$demo" 2>/dev/null || true
fi

# The example spec on the demo's SQLite file; full exposure adds an
# exposure: that lists every level.
sed -e 's/driver: postgres /driver: sqlite   /' examples/dinsos.yaml >"$OUT/default.yaml"
sed -e 's/driver: postgres /driver: sqlite   /' \
	-e 's/^refresh: 5m /exposure: {levels: all}\nrefresh: 5m /' examples/dinsos.yaml >"$OUT/full.yaml"
grep -q 'driver: sqlite' "$OUT/default.yaml" && grep -q '^exposure: {levels: all}' "$OUT/full.yaml" ||
	{ echo "examples/dinsos.yaml changed shape; update the sed lines of $0" >&2; exit 1; }
export PANTAU_SOURCE_DINSOS_DSN="$OUT/data/dinsos-demo.db"

printf '%-10s %-8s %-8s %12s %12s %10s %10s %10s %10s %10s %9s\n' \
	scope exposure interval body-series head-series scrape-p50 scrape-max rss-MB peak-MB B/sample samples | tee "$OUT/results.txt"
for run in $RUNS; do
	IFS=: read -r scope exposure interval <<<"$run"
	interval=${interval:-$INTERVAL}
	case $scope in
	kabupaten) region=32.16 ;;
	province) region=32 ;;
	nation) region= ;;
	*) echo "unknown scope $scope" >&2; exit 2 ;;
	esac
	dir="$OUT/$scope-$exposure"
	rm -rf "$dir" && mkdir -p "$dir"

	port=$(free_port)
	"$OUT/pantau" serve --config "$OUT/$exposure.yaml" ${region:+--region "$region"} --listen "127.0.0.1:$port" \
		--store --store-dsn "$OUT/data/pantau.db" >"$dir/pantau.log" 2>&1 &
	pantau=$!
	pids+=("$pantau")
	wait_for "http://127.0.0.1:$port/readyz" 600
	series=$(curl -fs "http://127.0.0.1:$port/metrics" | grep -vc '^#')

	cat >"$dir/prometheus.yml" <<-EOF
		global: {scrape_interval: $interval, scrape_timeout: $interval}
		scrape_configs:
		  - {job_name: pantau, static_configs: [{targets: ['127.0.0.1:$port']}]}
	EOF
	pport=$(free_port)
	prom="http://127.0.0.1:$pport"
	"$PROMETHEUS" --config.file="$dir/prometheus.yml" --storage.tsdb.path="$dir/tsdb" \
		--web.listen-address="127.0.0.1:$pport" >"$dir/prometheus.log" 2>&1 &
	ppid=$!
	pids+=("$ppid")
	wait_for "$prom/-/ready" 60
	until n=$(promql "$prom" 'count_over_time(up{job="pantau"}[1h])') && [ -n "$n" ] && [ "$n" -ge "$SCRAPES" ]; do
		sleep 1
	done

	head=$(curl -fs "$prom/metrics" | awk '/^prometheus_tsdb_head_series /{print $2}')
	p50=$(promql "$prom" 'quantile_over_time(0.5, scrape_duration_seconds{job="pantau"}[1h])')
	pmax=$(promql "$prom" 'max_over_time(scrape_duration_seconds{job="pantau"}[1h])')
	appended=$(curl -fs "$prom/metrics" | awk '/^prometheus_tsdb_head_samples_appended_total/{s+=$2} END{print s}')
	rss=$(awk '/VmRSS/{print $2/1024}' "/proc/$ppid/status")
	peak=$(awk '/VmHWM/{print $2/1024}' "/proc/$ppid/status")
	disk=$(du -sb "$dir/tsdb" | cut -f1)
	printf '%-10s %-8s %-8s %12d %12d %10.3f %10.3f %10.0f %10.0f %10.2f %9.0f\n' \
		"$scope" "$exposure" "$interval" "$series" "$head" "$p50" "$pmax" "$rss" "$peak" "$(echo "$disk / $appended" | bc -l)" "$appended" |
		tee -a "$OUT/results.txt"

	kill "$ppid" "$pantau"
	wait "$ppid" "$pantau" 2>/dev/null || true
done
echo "load:       $(cut -d' ' -f1-3 /proc/loadavg) after the runs"
