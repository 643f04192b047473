#!/usr/bin/env bash
# The production topology, natively on this machine (docs/deploy.md):
#   PostgreSQL (tracker store) + Redis (lock store) + N Rasa instances + the action
#   server, behind nginx on RASA_PORT (where the widget expects Rasa).
#
#   scripts/topology.sh up      start everything in the background, wait until ready
#   scripts/topology.sh down    stop everything (data stays in $TOPOLOGY_DIR)
#   scripts/topology.sh run     up, then wait; Ctrl-C stops (make topology)
#   scripts/topology.sh status  each process: state, restarts, last exit (make status)
#   scripts/topology.sh pg-restart   restart PostgreSQL (fault test, bench/faults.py)
#
# supervisord runs every process (iom/tools/supervision/) and restarts one that exits;
# logs in $TOPOLOGY_DIR/logs/.
#
# Settings (environment; defaults below, secrets generated once into
# $TOPOLOGY_DIR/secrets.env with mode 600 unless set): RASA_INSTANCES, RASA_PORT (nginx),
# RASA_INSTANCE_BASE_PORT, PG_PORT, REDIS_PORT, POSTGRES_PASSWORD, REDIS_PASSWORD,
# TOPOLOGY_RATE_PER_MIN (nginx per-IP limit, 0 = off), TOPOLOGY_ENDPOINTS (the Rasa
# instances' endpoints file; bench/serve.py swaps in Rasa's own Redis lock store).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
# Rasa's HTTP API (for the learning loop's live swap, docs/nlu.md) only with a token,
# as in scripts/run.sh; the instances listen on 127.0.0.1 behind nginx.
if [ "${RASA_ENABLE_API:-0}" = "1" ]; then
    if [ -z "${RASA_API_TOKEN:-}" ] || [ "${#RASA_API_TOKEN}" -lt 32 ]; then
        echo "RASA_ENABLE_API=1 needs RASA_API_TOKEN of at least 32 characters" >&2
        exit 2
    fi
fi

STATE="${TOPOLOGY_DIR:-$VAR_DIR/topology}"
RASA_INSTANCES="${RASA_INSTANCES:-2}"
RASA_INSTANCE_BASE_PORT="${RASA_INSTANCE_BASE_PORT:-5011}"
PG_PORT="${PG_PORT:-5433}"
export REDIS_HOST="${REDIS_HOST:-127.0.0.1}"
export REDIS_PORT="${REDIS_PORT:-6380}"
TOPOLOGY_RATE_PER_MIN="${TOPOLOGY_RATE_PER_MIN:-300}"
TOPOLOGY_ENDPOINTS="${TOPOLOGY_ENDPOINTS:-deploy/endpoints.yml}"
PG_BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
BIN=.venv/bin
mkdir -p "$STATE"
STATE="$(cd "$STATE" && pwd)"

need() {
    command -v "$1" >/dev/null || [ -x "$PG_BIN/$1" ] || {
        echo "$1 is missing: make topology-deps (Debian: postgresql redis-server nginx)" >&2
        exit 2
    }
}

secrets() {
    if [ ! -f "$STATE/secrets.env" ]; then
        umask 077
        {
            echo "POSTGRES_PASSWORD=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')"
            echo "REDIS_PASSWORD=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')"
        } >"$STATE/secrets.env"
    fi
    # values from the environment win over the generated ones
    local pg="${POSTGRES_PASSWORD:-}" redis="${REDIS_PASSWORD:-}"
    source "$STATE/secrets.env"
    export POSTGRES_PASSWORD="${pg:-$POSTGRES_PASSWORD}"
    export REDIS_PASSWORD="${redis:-$REDIS_PASSWORD}"
    export TRACKER_URL="postgresql://rasa:${POSTGRES_PASSWORD}@127.0.0.1:${PG_PORT}/rasa"
    # socket.io rooms shared by the Rasa instances (an operator's message reaches the
    # widget whichever instance holds its socket); database 1, the lock store uses 0
    export SOCKETIO_REDIS_URL="redis://:${REDIS_PASSWORD}@127.0.0.1:${REDIS_PORT}/1"
    # the console reaches each instance's HTTP API directly (never through nginx)
    export RASA_API_URL="${RASA_API_URL:-http://127.0.0.1:${RASA_INSTANCE_BASE_PORT}}"
}

as_postgres() {
    # PostgreSQL refuses to run as root; Debian's package has a `postgres` user.
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

init_postgres() {
    local data="$STATE/pg"
    if [ ! -f "$data/PG_VERSION" ]; then
        mkdir -p "$data"
        [ "$(id -u)" = 0 ] && chown postgres "$STATE" "$data"
        printf '%s\n' "$POSTGRES_PASSWORD" >"$STATE/pgpass.tmp"
        [ "$(id -u)" = 0 ] && chown postgres "$STATE/pgpass.tmp"
        as_postgres "$PG_BIN/initdb" -D "$data" -U rasa --pwfile="$STATE/pgpass.tmp" \
            --auth-host=scram-sha-256 --auth-local=peer -E UTF8 >/dev/null
        rm -f "$STATE/pgpass.tmp"
        # the listen address and port are given on the command line (supervision.py)
    fi
}

wait_postgres() { # until it accepts connections, then create the database once
    local sql="select 1 from pg_database where datname='rasa'" found=""
    for _ in $(seq 120); do
        found=$(PGPASSWORD="$POSTGRES_PASSWORD" "$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" \
            -U rasa -d postgres -tAc "$sql" 2>/dev/null) && break
        sleep 0.5
    done
    [ "$found" = 1 ] || PGPASSWORD="$POSTGRES_PASSWORD" "$PG_BIN/createdb" -h 127.0.0.1 \
        -p "$PG_PORT" -U rasa rasa
}

wait_http() {
    local url=$1 seconds=${2:-300}
    for _ in $(seq "$seconds"); do
        curl -fsS -o /dev/null "$url" 2>/dev/null && return 0
        sleep 1
    done
    echo "$url did not come up; logs in $STATE/logs" >&2
    return 1
}

supervision() { "$BIN/python" -m iom.tools.supervision "$@"; }

instances() { # the Rasa instances' program names
    local i
    for i in $(seq 0 $((RASA_INSTANCES - 1))); do echo "rasa-$((RASA_INSTANCE_BASE_PORT + i))"; done
}

# supervisord (iom/tools/supervision/, docs/deploy.md) runs PostgreSQL, Redis, the
# action server, the Rasa instances and nginx, and restarts any of them that exits
# (back-off, at most 5 restarts a minute, then a pause); `make status` shows them.
start_supervised() {
    local upstreams=() i
    for i in $(seq 0 $((RASA_INSTANCES - 1))); do
        upstreams+=(--upstream "127.0.0.1:$((RASA_INSTANCE_BASE_PORT + i))")
    done
    "$BIN/python" -m iom.tools.render_nginx "$STATE/nginx.conf" --state "$STATE" --host "$RASA_HOST" \
        --port "$RASA_PORT" --rate "$TOPOLOGY_RATE_PER_MIN" "${upstreams[@]}"
    supervision config topology "$STATE" --instances "$RASA_INSTANCES" \
        --base-port "$RASA_INSTANCE_BASE_PORT" --pg-bin "$PG_BIN" --pg-port "$PG_PORT" \
        --redis-port "$REDIS_PORT" --endpoints "$TOPOLOGY_ENDPOINTS" \
        --action-host "$ACTION_HOST" --action-port "$ACTION_PORT" --host "$RASA_HOST" \
        --port "$RASA_PORT" --cors "$CORS_ORIGIN" >/dev/null
    "$BIN/supervisord" --configuration "$STATE/supervisord.conf" # daemon
    for _ in $(seq 50); do supervision ping "$STATE" && return 0; sleep 0.2; done
    echo "supervisord did not start; see $STATE/supervisord.log" >&2
    return 1
}

up() {
    need nginx
    need redis-server
    need initdb
    [ -f models/iom.tar.gz ] || { echo "models/iom.tar.gz missing: make train" >&2; exit 2; }
    [ -x "$BIN/supervisord" ] || { echo "$BIN/supervisord is missing: make install" >&2; exit 2; }
    secrets
    init_postgres
    # nginx limits per client address; the channels' per-IP bucket would see only nginx
    export RATE_LIMIT_IP_PER_MIN=0
    supervision ping "$STATE" || start_supervised # starts PostgreSQL and Redis
    wait_postgres
    supervision start "$STATE" actions $(instances) nginx
    wait_http "http://$ACTION_HOST:$ACTION_PORT/health"
    local i
    for i in $(seq 0 $((RASA_INSTANCES - 1))); do
        wait_http "http://127.0.0.1:$((RASA_INSTANCE_BASE_PORT + i))/"
    done
    wait_http "http://$RASA_HOST:$RASA_PORT/" 30
    echo "topology up: nginx http://$RASA_HOST:$RASA_PORT -> $RASA_INSTANCES Rasa instance(s) from :$RASA_INSTANCE_BASE_PORT;" \
        "actions :$ACTION_PORT; PostgreSQL :$PG_PORT; Redis :$REDIS_PORT; state $STATE;" \
        "supervised (make status)"
}

down() {
    # every process in reverse order (nginx first, PostgreSQL last), then supervisord
    supervision shutdown "$STATE"
    echo "topology down"
}

status() {
    supervision status "$STATE"
}

case "${1:-run}" in
up) up ;;
down) down ;;
status) status ;;
env) secrets; echo "TRACKER_URL=$TRACKER_URL" ;;
pg-restart) # a planned restart (fast shutdown), not counted as a crash
    secrets
    supervision restart "$STATE" postgresql
    wait_postgres
    echo "postgresql restarted"
    ;;
run)
    sleeper=""
    trap 'trap - EXIT; down; [ -z "$sleeper" ] || kill "$sleeper" 2>/dev/null; exit 130' INT TERM
    trap down EXIT
    up
    echo "Press Ctrl-C to stop."
    # wait (not a foreground sleep) returns at once when a signal arrives
    while true; do sleep 3600 & sleeper=$!; wait "$sleeper" || true; done
    ;;
*) echo "usage: $0 up|down|run|status|env|pg-restart" >&2; exit 2 ;;
esac
