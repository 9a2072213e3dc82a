#!/usr/bin/env bash
# Side by side with what offices use today (docs/benchmarks.md): pantau,
# Debian's prometheus-sql-exporter and prometheus-postgres-exporter (custom
# queries) on one PostgreSQL copy of the demo data, the same kecamatan SQL
# (each KPI's month query of examples/dinsos.yaml, this month's dates
# bound) at the same refresh cadence. pantau runs twice: "pantau" exposes
# the exporters' content (the month's actual, numerator and denominator; at
# every level, so the kecamatan rows plus their roll-ups), "pantau_full"
# every level, window and family. A fifth contender is pantau as it was
# before the year window kept its closed months (recheck_closed: 1ms: the
# year query on every refresh), the baseline of the change. Rounds
# alternate between the tools, one tool running at a time; each round
# measures, after a warm-up:
# scrape p50/p95 and body bytes (gzip, as Prometheus asks), the CPU of the
# tool's PostgreSQL backends per refresh (/proc, by process title), the
# tool's own CPU and RSS. At the end all three run together and their
# kecamatan numbers are compared.
#
#   bench/sidebyside.sh                         # Scale 1, 5s cadence, 3 rounds of 45 s
#   ROUNDS=5 ROUND_SECONDS=90 bench/sidebyside.sh
#
# Environment:
#   SCALE          demo data scale (default 1: 7,285 kecamatan, about 2.5 M
#                  rows from January of last year to today)
#   CADENCE        refresh cadence of every tool (default 5s)
#   ROUNDS         rounds per tool (default 3)
#   ROUND_SECONDS  measured seconds per round (default 45)
#   WARMUP         seconds between a tool's readiness and its round (default 15)
#   TOOLS          the contenders, in round order (default: all five)
#   PANTAU_TEST_POSTGRES  admin DSN (default postgres://postgres@127.0.0.1:5432)
#   PANTAU_BENCH_CACHE    where the generated SQLite source is kept
#                  (default ~/.cache/pantau-bench)
#   OUT            directory for configurations, logs and results.jsonl
#   KEEP_DB=1      keep the PostgreSQL database afterwards
#
# The exporters are installed with apt-get when missing; their services are
# not enabled (masked first where systemd runs) and the script starts the
# binaries itself. Parallel query workers are switched off for the bench
# database (max_parallel_workers_per_gather = 0) so every tool's database
# work runs in its own backends, whose CPU is read from /proc.
set -euo pipefail

cd "$(dirname "$0")/.."

SCALE=${SCALE:-1}
CADENCE=${CADENCE:-5s}
ROUNDS=${ROUNDS:-3}
ROUND_SECONDS=${ROUND_SECONDS:-45}
WARMUP=${WARMUP:-15}
TOOLS=${TOOLS:-pantau pantau_full pantau_rereading sql_exporter postgres_exporter}
PG=${PANTAU_TEST_POSTGRES:-postgres://postgres@127.0.0.1:5432}
PG=${PG%/}
OUT=${OUT:-$(mktemp -d -t pantau-sbs-XXXXXX)}
CACHE=${PANTAU_BENCH_CACHE-${XDG_CACHE_HOME:-$HOME/.cache}/pantau-bench}
DB=pantau_sbs_$$
mkdir -p "$OUT"

# --- the exporters, from Debian
missing=()
for pkg in prometheus-sql-exporter prometheus-postgres-exporter; do
	dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
	if [ "$(ps -p 1 -o comm= 2>/dev/null)" = systemd ]; then
		for pkg in "${missing[@]}"; do systemctl mask "$pkg.service"; done
	fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
fi

# --- pantau and the helper
go build -o "$OUT/pantau" ./cmd/pantau
go build -o "$OUT/sidebyside" ./bench/sidebyside
SBS=$OUT/sidebyside

# --- the demo data, generated up to today and loaded into PostgreSQL
if [ -n "$CACHE" ]; then mkdir -p "$CACHE"; SRC=$CACHE/sidebyside-scale$SCALE-$(date +%F).db; else SRC=$OUT/demo.db; fi
if [ ! -f "$SRC" ]; then
	echo "== generating the demo data (scale $SCALE) into $SRC"
	"$SBS" gen "$SRC" "$SCALE"
fi
DBURL=$PG/$DB?sslmode=disable
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null || true; done
	if [ "${KEEP_DB:-0}" != 1 ]; then psql "$PG/postgres?sslmode=disable" -Xqc "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT
echo "== loading it into PostgreSQL database $DB"
start=$(date +%s)
psql "$PG/postgres?sslmode=disable" -Xqc "CREATE DATABASE $DB"
grep -v '^CREATE INDEX' examples/dinsos-schema.sql | psql "$DBURL" -Xq -v ON_ERROR_STOP=1 -f -
for t in ewarong kube sembako_alokasi pkh_tahap pkh_graduasi; do
	cols=$(sqlite3 "$SRC" "SELECT group_concat(name, ',') FROM pragma_table_info('$t')")
	sqlite3 -csv "$SRC" "SELECT $cols FROM $t" | psql "$DBURL" -Xqc "\\copy $t ($cols) FROM STDIN WITH (FORMAT csv)"
done
{ grep '^CREATE INDEX' examples/dinsos-schema.sql; echo 'VACUUM ANALYZE;'; } | psql "$DBURL" -Xq -v ON_ERROR_STOP=1 -f -
psql "$DBURL" -Xq -v ON_ERROR_STOP=1 <<SQL
ALTER DATABASE $DB SET max_parallel_workers_per_gather = 0;
DO \$\$ BEGIN
  CREATE ROLE sbs_pantau LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END \$\$;
DO \$\$ BEGIN
  CREATE ROLE sbs_sqlexp LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END \$\$;
DO \$\$ BEGIN
  CREATE ROLE sbs_pgexp LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END \$\$;
DO \$\$ BEGIN
  CREATE ROLE sbs_reread LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END \$\$;
DO \$\$ BEGIN
  CREATE ROLE sbs_full LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END \$\$;
GRANT SELECT ON ALL TABLES IN SCHEMA public TO sbs_pantau, sbs_sqlexp, sbs_pgexp, sbs_reread, sbs_full;
SQL
rows=$(psql "$DBURL" -XAtc "SELECT (SELECT count(*) FROM sembako_alokasi) + (SELECT count(*) FROM pkh_tahap) + (SELECT count(*) FROM pkh_graduasi) + (SELECT count(*) FROM ewarong) + (SELECT count(*) FROM kube)")
echo "loaded $rows rows in $(($(date +%s) - start)) s"

# --- configurations: the same SQL for everyone
dsn() { echo "${PG/\/\/postgres@/\/\/$1@}/$DB?sslmode=disable"; }
sed "s/^refresh: .*/refresh: $CADENCE/" examples/dinsos.yaml >"$OUT/pantau-base.yaml"
# What goes to Prometheus (the spec's exposure, docs/metrics.md): the
# exporters' content, the month's figures the kecamatan query returns, at
# every level (kecamatan, whose numbers are compared with the exporters',
# and their roll-ups, which the exporters do not have); or everything.
{ cat "$OUT/pantau-base.yaml"; echo 'exposure: {levels: all, windows: [month], families: [actual, numerator, denominator]}'; } >"$OUT/pantau.yaml"
{ cat "$OUT/pantau-base.yaml"; echo 'exposure: {levels: all, windows: all, families: all}'; } >"$OUT/pantau-full.yaml"
sed 's/recheck_closed: .*/recheck_closed: 1ms/' "$OUT/pantau.yaml" >"$OUT/pantau-rereading.yaml"
for f in pantau pantau-full pantau-rereading; do
	PANTAU_SOURCE_DINSOS_DSN=$(dsn sbs_pantau) "$OUT/pantau" check "$OUT/$f.yaml" >/dev/null
done
"$SBS" configs "$OUT/pantau.yaml" "$OUT" "$CADENCE" "$(dsn sbs_sqlexp)"

freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# start TOOL PORT: starts a tool in the background and sets pid.
start() {
	local log=$OUT/$1.log
	case $1 in
	pantau)
		PANTAU_SOURCE_DINSOS_DSN=$(dsn sbs_pantau) "$OUT/pantau" serve --config "$OUT/pantau.yaml" \
			--listen "127.0.0.1:$2" --log-level warn >>"$log" 2>&1 &
		;;
	pantau_full)
		PANTAU_SOURCE_DINSOS_DSN=$(dsn sbs_full) "$OUT/pantau" serve --config "$OUT/pantau-full.yaml" \
			--listen "127.0.0.1:$2" --log-level warn >>"$log" 2>&1 &
		;;
	pantau_rereading)
		PANTAU_SOURCE_DINSOS_DSN=$(dsn sbs_reread) "$OUT/pantau" serve --config "$OUT/pantau-rereading.yaml" \
			--listen "127.0.0.1:$2" --log-level warn >>"$log" 2>&1 &
		;;
	sql_exporter)
		LOGLEVEL=warn prometheus-sql-exporter -config.file "$OUT/sql_exporter.yml" \
			-web.listen-address "127.0.0.1:$2" >>"$log" 2>&1 &
		;;
	postgres_exporter)
		DATA_SOURCE_NAME=$(dsn sbs_pgexp) prometheus-postgres-exporter --extend.query-path="$OUT/postgres_exporter.yml" \
			--disable-default-metrics --disable-settings-metrics --no-collector.database --no-collector.bgwriter \
			--web.listen-address="127.0.0.1:$2" --log.level=warn >>"$log" 2>&1 &
		;;
	esac
	pid=$!
	pids+=("$pid")
	for _ in $(seq 1 600); do
		if curl -fsS -o /dev/null "http://127.0.0.1:$2/metrics" 2>/dev/null &&
			{ [ "${1#pantau}" = "$1" ] || curl -fsS -o /dev/null "http://127.0.0.1:$2/readyz" 2>/dev/null; }; then
			return
		fi
		kill -0 "$pid" 2>/dev/null || { cat "$log"; echo "$1 exited" >&2; exit 1; }
		sleep 0.5
	done
	echo "$1 did not become ready" >&2
	exit 1
}
stop() { kill "$1" && wait "$1" 2>/dev/null || true; }
role() { case $1 in pantau) echo sbs_pantau ;; pantau_full) echo sbs_full ;; pantau_rereading) echo sbs_reread ;; sql_exporter) echo sbs_sqlexp ;; postgres_exporter) echo sbs_pgexp ;; esac; }

echo
echo "== machine"
echo "date:       $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD 2>/dev/null || echo none)$(git diff --quiet 2>/dev/null || echo ' + local changes')"
echo "cpu:        $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(nproc) cores"
echo "postgres:   $(psql "$DBURL" -XAtc 'SHOW server_version')"
echo "tools:      pantau $("$OUT/pantau" --version 2>/dev/null | head -1 || echo '(no --version)'); $(dpkg-query -W -f '${Package} ${Version}; ' prometheus-sql-exporter prometheus-postgres-exporter)"
echo "data:       scale $SCALE, $rows rows; cadence $CADENCE; $ROUNDS rounds of ${ROUND_SECONDS}s per tool after ${WARMUP}s warm-up"
echo "load:       $(cut -d' ' -f1-3 /proc/loadavg) before"
echo

RESULTS=$OUT/results.jsonl
: >"$RESULTS"
for round in $(seq 1 "$ROUNDS"); do
	for tool in $TOOLS; do
		port=$(freeport)
		start "$tool" "$port"
		sleep "$WARMUP"
		"$SBS" measure -tool "$tool" -round "$round" -pid "$pid" -url "http://127.0.0.1:$port/metrics" \
			-role "$(role "$tool")" -db "$DB" -for "${ROUND_SECONDS}s" -cadence "$CADENCE" | tee -a "$RESULTS"
		if [ "$tool" = pantau ]; then
			# The year queries pantau ran at start-up, which it repeats
			# only every recheck_closed (wall time; no parallel workers).
			curl -fsS "http://127.0.0.1:$port/metrics" |
				awk '/^pantau_query_duration_seconds\{.*query="year"/ { s += $NF } END { print s }' >>"$OUT/pantau-year-queries.txt" || true
		fi
		stop "$pid"
	done
done
echo "load:       $(cut -d' ' -f1-3 /proc/loadavg) after"
echo

echo "== do the tools agree? (all three running, after two refreshes)"
urls=()
for tool in pantau sql_exporter postgres_exporter; do
	port=$(freeport)
	start "$tool" "$port"
	urls+=("http://127.0.0.1:$port/metrics")
done
sleep "$(( $(echo "$CADENCE" | tr -dc 0-9) * 2 + 2 ))"
"$SBS" agree "$OUT/pantau.yaml" "${urls[@]}"
echo

echo "== medians of $ROUNDS rounds (raw: $RESULTS)"
"$SBS" report "$RESULTS"
if [ -s "$OUT/pantau-year-queries.txt" ]; then
	echo "pantau's year queries, run at start-up and then every recheck_closed (seconds of wall time, all flow KPIs, per round): $(tr '\n' ' ' <"$OUT/pantau-year-queries.txt")"
fi
