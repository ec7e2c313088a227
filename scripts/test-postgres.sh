#!/usr/bin/env bash
# The PostgreSQL server the tests talk to: installs it (Debian's `postgresql`) when missing,
# starts the cluster when it is down, and makes the login role `debtledger` (password
# `debtledger`, CREATEDB) and its database `debtledger_test`. Idempotent and quiet.
#
# The tests then use DEBTLEDGER_TEST_PG_URL (set by `make test`):
#   postgresql+psycopg://debtledger:debtledger@127.0.0.1:5432/debtledger_test
set -euo pipefail

ROLE=debtledger
PASSWORD=debtledger
DATABASE=debtledger_test
PORT=5432

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

as_postgres() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        sudo -u postgres "$@"
    fi
}

server_installed() {
    command -v pg_lsclusters >/dev/null 2>&1 \
        && compgen -G "/usr/lib/postgresql/*/bin/postgres" >/dev/null
}

if ! server_installed; then
    echo "test-postgres: installing PostgreSQL (apt-get install postgresql)" >&2
    as_root apt-get update -qq >/dev/null
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi

# The cluster on our port: Debian's package makes one (e.g. 15/main); make it if it is gone.
cluster=$(pg_lsclusters -h | awk -v port="$PORT" '$3 == port { print $1 " " $2; exit }')
if [ -z "$cluster" ]; then
    version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
    as_root pg_createcluster --port "$PORT" "$version" main >/dev/null
    cluster="$version main"
fi
read -r version name <<<"$cluster"

status=$(pg_lsclusters -h | awk -v v="$version" -v n="$name" '$1 == v && $2 == n { print $4 }')
if [ "$status" != "online" ]; then
    as_root pg_ctlcluster "$version" "$name" start
fi

for _ in $(seq 1 60); do
    pg_isready -q -h 127.0.0.1 -p "$PORT" && break
    sleep 0.5
done
pg_isready -q -h 127.0.0.1 -p "$PORT" || {
    echo "test-postgres: PostgreSQL $version/$name does not accept connections on $PORT" >&2
    exit 1
}

psql_admin() {
    (cd / && as_postgres psql -p "$PORT" -X -q -v ON_ERROR_STOP=1 -At "$@")
}

if [ "$(psql_admin -c "SELECT 1 FROM pg_roles WHERE rolname = '$ROLE'")" != "1" ]; then
    psql_admin -c "CREATE ROLE $ROLE LOGIN CREATEDB PASSWORD '$PASSWORD'"
else
    psql_admin -c "ALTER ROLE $ROLE LOGIN CREATEDB PASSWORD '$PASSWORD'"
fi
if [ "$(psql_admin -c "SELECT 1 FROM pg_database WHERE datname = '$DATABASE'")" != "1" ]; then
    psql_admin -c "CREATE DATABASE $DATABASE OWNER $ROLE"
fi
