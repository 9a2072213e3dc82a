#!/usr/bin/env bash
# Runs govulncheck over pantau against a local copy of the Go
# vulnerability database, for machines that reach no vulnerability
# service. The database comes from the golang.org/x/vulndb module (the
# Go module proxy serves it): its data/osv holds every report as OSV JSON,
# and its cmd/indexdb writes the v1 layout govulncheck reads
# (index/db.json, index/modules.json, ID/*.json).
#
#   bash scripts/govulncheck.sh            # source mode: only reachable vulnerabilities
#   VULNDB=v0.0.0-... bash scripts/govulncheck.sh -show verbose
#
# Extra arguments go to govulncheck. Exit status is govulncheck's: 3 when
# a vulnerable symbol is reachable. docs/reliability.md (Security) has the
# last run and what each finding means.
set -euo pipefail
cd "$(dirname "$0")/.."

VULN=${VULN:-v1.9.0}                                     # golang.org/x/vuln (govulncheck)
VULNDB=${VULNDB:-v0.0.0-20261105234957-e22db6528018}     # golang.org/x/vulndb snapshot
# The standard library checked is the toolchain go.mod names, which
# releases are built with (GOTOOLCHAIN=local would check the installed go
# instead); set GOTOOLCHAIN to check another.
export GOTOOLCHAIN=${GOTOOLCHAIN:-$(sed -n 's/^toolchain //p' go.mod)}
work=${VULNCHECK_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/pantau-govulncheck}
db="$work/db-$VULNDB"
mkdir -p "$work"

if [ ! -x "$work/govulncheck-$VULN" ]; then
  echo "==> building govulncheck $VULN" >&2
  GOBIN="$work/bin" go install "golang.org/x/vuln/cmd/govulncheck@$VULN"
  mv "$work/bin/govulncheck" "$work/govulncheck-$VULN"
fi
if [ ! -f "$db/index/db.json" ]; then
  echo "==> building the vulnerability database from golang.org/x/vulndb@$VULNDB" >&2
  src=$(go mod download -json "golang.org/x/vulndb@$VULNDB" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
  [ -d "$src/data/osv" ] || { echo "no data/osv in $src" >&2; exit 1; }
  (cd "$src" && go build -o "$work/indexdb-$VULNDB" ./cmd/indexdb)
  rm -rf "$db.tmp"
  "$work/indexdb-$VULNDB" -vulns "$src/data/osv" -out "$db.tmp"
  mv "$db.tmp" "$db"
fi
echo "==> govulncheck $VULN, database $VULNDB ($(ls "$db/ID" | wc -l) entries), $(go version)" >&2
exec "$work/govulncheck-$VULN" -db "file://$db" "$@" ./...
