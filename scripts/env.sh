# Default settings for every make target; each may be overridden from the
# environment (see .env.example). Sourced, not executed.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export VAR_DIR="${VAR_DIR:-$ROOT/var}"
export RASA_HOST="${RASA_HOST:-127.0.0.1}"
export RASA_PORT="${RASA_PORT:-5005}"
export ACTION_HOST="${ACTION_HOST:-127.0.0.1}"
export ACTION_PORT="${ACTION_PORT:-5055}"
export WIDGET_PORT="${WIDGET_PORT:-8080}"
export CONSOLE_PORT="${CONSOLE_PORT:-8081}"
export WIDGET_HOST="${WIDGET_HOST:-127.0.0.1}"
# Browser origins allowed to call Rasa (REST CORS and socket.io), space separated.
export CORS_ORIGIN="${CORS_ORIGIN:-http://localhost:$WIDGET_PORT http://127.0.0.1:$WIDGET_PORT}"
export RETENTION_DAYS="${RETENTION_DAYS:-30}"
export TRACKER_URL="${TRACKER_URL:-sqlite:///$VAR_DIR/rasa.db}"
export RASA_TELEMETRY_ENABLED=false
# Sanic's keep-alive (action server, Rasa): longer than the ~10 s during which a live
# model swap (PUT /model, docs/nlu.md) blocks Rasa's event loop, so that Rasa never
# writes to an action-server connection the server closed meanwhile (Sanic's default,
# 5 s, made one in-flight custom action per swap fail in tests/console/test_learning_e2e.py).
export SANIC_KEEP_ALIVE_TIMEOUT="${SANIC_KEEP_ALIVE_TIMEOUT:-75}"
export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}"
mkdir -p "$VAR_DIR"
# Rasa's HTTP API, for the console's live chat only (docs/console.md): on, on RASA_HOST
# (127.0.0.1 unless set), and only with a token, generated once into var/ (mode 0600).
export RASA_ENABLE_API="${RASA_ENABLE_API:-1}"
if [ -z "${RASA_API_TOKEN:-}" ]; then
    if [ ! -s "$VAR_DIR/rasa-api-token" ]; then
        (umask 077 && head -c 36 /dev/urandom | base64 | tr -d '/+=\n' >"$VAR_DIR/rasa-api-token")
    fi
    RASA_API_TOKEN="$(cat "$VAR_DIR/rasa-api-token")"
    export RASA_API_TOKEN
fi
