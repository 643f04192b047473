#!/usr/bin/env bash
# The production topology, natively on this machine (docs/deploy.md):
#   PostgreSQL (tracker store) + Redis (lock store) + N Rasa instances + the action
#   server, behind nginx on RASA_PORT (where the widget expects Rasa).
#
#   scripts/topology.sh up      start everything in the background, wait until ready
#   scripts/topology.sh down    stop everything (data stays in $TOPOLOGY_DIR)
#   scripts/topology.sh run     up, then wait; Ctrl-C stops (make topology)
#   scripts/topology.sh status  what is running
#   scripts/topology.sh pg-restart   restart PostgreSQL (fault test, bench/faults.py)
#
# Settings (environment; defaults below, secrets generated once into
# $TOPOLOGY_DIR/secrets.env with mode 600 unless set): RASA_INSTANCES, RASA_PORT (nginx),
# RASA_INSTANCE_BASE_PORT, PG_PORT, REDIS_PORT, POSTGRES_PASSWORD, REDIS_PASSWORD,
# TOPOLOGY_RATE_PER_MIN (nginx per-IP limit, 0 = off), TOPOLOGY_ENDPOINTS (the Rasa
# instances' endpoints file; bench/serve.py swaps in Rasa's own Redis lock store).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

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
}

as_postgres() {
    # PostgreSQL refuses to run as root; Debian's package has a `postgres` user.
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start_postgres() {
    local data="$STATE/pg"
    if [ ! -f "$data/PG_VERSION" ]; then
        mkdir -p "$data"
        [ "$(id -u)" = 0 ] && chown postgres "$STATE" "$data"
        printf '%s\n' "$POSTGRES_PASSWORD" >"$STATE/pgpass.tmp"
        [ "$(id -u)" = 0 ] && chown postgres "$STATE/pgpass.tmp"
        as_postgres "$PG_BIN/initdb" -D "$data" -U rasa --pwfile="$STATE/pgpass.tmp" \
            --auth-host=scram-sha-256 --auth-local=peer -E UTF8 >/dev/null
        rm -f "$STATE/pgpass.tmp"
        # the listen address and port are given on the command line (pg_ctl below)
    fi
    if ! as_postgres "$PG_BIN/pg_ctl" -D "$data" status >/dev/null 2>&1; then
        as_postgres "$PG_BIN/pg_ctl" -D "$data" -l "$data/server.log" -w -t 60 \
            -o "-p $PG_PORT -c listen_addresses=127.0.0.1 -k $data -c max_connections=200" start >/dev/null
    fi
    PGPASSWORD="$POSTGRES_PASSWORD" "$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U rasa -d postgres -tAc \
        "select 1 from pg_database where datname='rasa'" | grep -q 1 ||
        PGPASSWORD="$POSTGRES_PASSWORD" "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U rasa rasa
}

start_redis() {
    if ! redis-cli -p "$REDIS_PORT" -a "$REDIS_PASSWORD" --no-auth-warning ping 2>/dev/null | grep -q PONG; then
        redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --requirepass "$REDIS_PASSWORD" \
            --save "" --appendonly no --daemonize yes --dir "$STATE" \
            --pidfile "$STATE/redis.pid" --logfile "$STATE/redis.log"
    fi
}

wait_http() {
    local url=$1 seconds=${2:-300}
    for _ in $(seq "$seconds"); do
        curl -fsS -o /dev/null "$url" 2>/dev/null && return 0
        sleep 1
    done
    echo "$url did not come up; logs in $STATE" >&2
    return 1
}

start_bg() { # name, command...
    local name=$1
    shift
    nohup "$@" >"$STATE/$name.log" 2>&1 &
    echo $! >"$STATE/$name.pid"
}

running() { [ -f "$STATE/$1.pid" ] && kill -0 "$(cat "$STATE/$1.pid")" 2>/dev/null; }

start_nginx() {
    local upstreams=() i
    for i in $(seq 0 $((RASA_INSTANCES - 1))); do
        upstreams+=(--upstream "127.0.0.1:$((RASA_INSTANCE_BASE_PORT + i))")
    done
    python3 scripts/render_nginx.py "$STATE/nginx.conf" --state "$STATE" --host "$RASA_HOST" \
        --port "$RASA_PORT" --rate "$TOPOLOGY_RATE_PER_MIN" "${upstreams[@]}"
    running nginx || start_bg nginx nginx -c "$STATE/nginx.conf" -p "$STATE"
}

up() {
    need nginx
    need redis-server
    need initdb
    [ -f models/iom.tar.gz ] || { echo "models/iom.tar.gz missing: make train" >&2; exit 2; }
    secrets
    start_postgres
    start_redis
    # nginx limits per client address; the channels' per-IP bucket would see only nginx
    export RATE_LIMIT_IP_PER_MIN=0
    running actions || start_bg actions "$BIN/rasa" run actions --port "$ACTION_PORT" --actions actions
    local i port
    for i in $(seq 0 $((RASA_INSTANCES - 1))); do
        port=$((RASA_INSTANCE_BASE_PORT + i))
        running "rasa-$port" || start_bg "rasa-$port" "$BIN/rasa" run --model models/iom.tar.gz \
            --interface 127.0.0.1 --port "$port" --credentials credentials.yml \
            --endpoints "$TOPOLOGY_ENDPOINTS" --cors $CORS_ORIGIN
    done
    wait_http "http://$ACTION_HOST:$ACTION_PORT/health"
    for i in $(seq 0 $((RASA_INSTANCES - 1))); do
        wait_http "http://127.0.0.1:$((RASA_INSTANCE_BASE_PORT + i))/"
    done
    start_nginx
    wait_http "http://$RASA_HOST:$RASA_PORT/" 30
    echo "topology up: nginx http://$RASA_HOST:$RASA_PORT -> $RASA_INSTANCES Rasa instance(s) from :$RASA_INSTANCE_BASE_PORT;" \
        "actions :$ACTION_PORT; PostgreSQL :$PG_PORT; Redis :$REDIS_PORT; state $STATE"
}

stop_pid() {
    local name=$1 pid
    [ -f "$STATE/$name.pid" ] || return 0
    pid=$(cat "$STATE/$name.pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$STATE/$name.pid"
}

down() {
    local name
    for name in nginx $(cd "$STATE" && ls rasa-*.pid 2>/dev/null | sed 's/\.pid$//') actions; do
        stop_pid "$name"
    done
    if [ -f "$STATE/redis.pid" ]; then kill "$(cat "$STATE/redis.pid")" 2>/dev/null || true; fi
    if [ -f "$STATE/pg/PG_VERSION" ]; then
        as_postgres "$PG_BIN/pg_ctl" -D "$STATE/pg" -m fast stop >/dev/null 2>&1 || true
    fi
    echo "topology down"
}

status() {
    local name
    for name in nginx actions $(cd "$STATE" && ls rasa-*.pid 2>/dev/null | sed 's/\.pid$//'); do
        running "$name" && echo "$name: running" || echo "$name: stopped"
    done
    as_postgres "$PG_BIN/pg_ctl" -D "$STATE/pg" status >/dev/null 2>&1 && echo "postgresql: running" || echo "postgresql: stopped"
    [ -f "$STATE/redis.pid" ] && kill -0 "$(cat "$STATE/redis.pid")" 2>/dev/null && echo "redis: running" || echo "redis: stopped"
}

case "${1:-run}" in
up) up ;;
down) down ;;
status) status ;;
env) secrets; echo "TRACKER_URL=$TRACKER_URL" ;;
pg-restart)
    as_postgres "$PG_BIN/pg_ctl" -D "$STATE/pg" -m fast -w -t 60 restart \
        -o "-p $PG_PORT -c listen_addresses=127.0.0.1 -k $STATE/pg -c max_connections=200" >/dev/null
    echo "postgresql restarted"
    ;;
run)
    trap down INT TERM EXIT
    up
    echo "Press Ctrl-C to stop."
    while true; do sleep 3600; done
    ;;
*) echo "usage: $0 up|down|run|status|env|pg-restart" >&2; exit 2 ;;
esac
