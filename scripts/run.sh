#!/usr/bin/env bash
# Start the whole product in one terminal: action server, Rasa server (REST + socket.io
# channels, SQLite tracker store under var/), the widget page, the operator console and
# a daily retention purge (conversations older than RETENTION_DAYS).
#
# supervisord runs them (iom/tools/supervision/, docs/deploy.md): a process that exits
# is started again (back-off while it fails to start, at most 5 restarts a minute, then
# a pause) while the others keep serving. `make status` shows each process, its
# restarts and last exit; logs are in var/run/logs/. Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
BIN=.venv/bin
state="$VAR_DIR/run"

# Rasa's HTTP API (trackers, model, events) is off unless asked for, and then only
# with a token; checked before anything starts.
if [ "${RASA_ENABLE_API:-0}" = "1" ]; then
    if [ -z "${RASA_API_TOKEN:-}" ] || [ "${#RASA_API_TOKEN}" -lt 32 ]; then
        echo "RASA_ENABLE_API=1 needs RASA_API_TOKEN of at least 32 characters" >&2
        exit 2
    fi
fi
[ -x "$BIN/supervisord" ] || { echo "$BIN/supervisord is missing: make install" >&2; exit 2; }
if "$BIN/python" -m iom.tools.supervision ping "$state"; then
    echo "make run is already running ($state); make status shows it" >&2
    exit 2
fi

mkdir -p "$state/logs"
"$BIN/python" -m iom.tools.supervision config run "$state" >/dev/null

echo "Rasa:           http://$RASA_HOST:$RASA_PORT/webhooks/rest/webhook"
echo "Action server:  http://$ACTION_HOST:$ACTION_PORT/health"
echo "Widget page:    http://localhost:$WIDGET_PORT/"
echo "Console:        http://localhost:$CONSOLE_PORT/  (accounts: make console-user NAME=... ROLE=admin)"
echo "Status:         make status; logs in $state/logs/ (restarts.log: every restart)"
echo "Press Ctrl-C to stop."
# In the foreground: its log (starts, exits with their status, restarts) goes to the
# terminal; SIGINT or SIGTERM stops every process, then supervisord.
exec "$BIN/supervisord" --nodaemon --configuration "$state/supervisord.conf"
