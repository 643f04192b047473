#!/usr/bin/env bash
# Start the whole product in one terminal: action server, Rasa server (REST + socket.io
# channels, SQLite tracker store under var/), the widget page, and a daily retention
# purge (conversations older than RETENTION_DAYS). Ctrl-C stops all.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
BIN=.venv/bin
pids=()
stop() {
    trap - INT TERM EXIT
    echo "Stopping..."
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
}
trap stop INT TERM EXIT

# Rasa's HTTP API (trackers, model, events) is off unless asked for, and then only
# with a token; checked before anything starts.
api_flags=()
if [ "${RASA_ENABLE_API:-0}" = "1" ]; then
    if [ -z "${RASA_API_TOKEN:-}" ] || [ "${#RASA_API_TOKEN}" -lt 32 ]; then
        echo "RASA_ENABLE_API=1 needs RASA_API_TOKEN of at least 32 characters" >&2
        exit 2
    fi
    api_flags=(--enable-api --auth-token "$RASA_API_TOKEN")
fi

"$BIN/rasa" run actions --port "$ACTION_PORT" --actions actions &
pids+=($!)

"$BIN/rasa" run --model models/iom.tar.gz --interface "$RASA_HOST" --port "$RASA_PORT" \
    --credentials credentials.yml --endpoints endpoints.yml \
    --cors $CORS_ORIGIN "${api_flags[@]}" &  # unquoted: one argument per origin
pids+=($!)

"$BIN/python" scripts/widget_server.py --port "$WIDGET_PORT" &
pids+=($!)

# Operator console: its own venv (pydantic 2); create accounts with `make console-user`.
.venv-console/bin/python -m console.cli serve --port "$CONSOLE_PORT" &
pids+=($!)

# Retention: purge at start, then once a day while running (see docs/privacy.md).
"$BIN/python" scripts/retention.py purge --every 86400 &
pids+=($!)

echo "Rasa:           http://$RASA_HOST:$RASA_PORT/webhooks/rest/webhook"
echo "Action server:  http://$ACTION_HOST:$ACTION_PORT/health"
echo "Widget page:    http://localhost:$WIDGET_PORT/"
echo "Console:        http://localhost:$CONSOLE_PORT/  (accounts: make console-user NAME=... ROLE=admin)"
echo "Press Ctrl-C to stop."
wait -n "${pids[@]}"
