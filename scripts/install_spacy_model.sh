#!/usr/bin/env bash
# Install spaCy's Polish pipeline pl_core_news_sm (release matching spaCy 3.4)
# where the network allows. It is a release asset, not on PyPI, so on networks
# that reach only package registries it cannot be installed: say so once and
# carry on. The NLU pipeline then lemmatizes Polish with simplemma (docs/nlu.md).
set -u
PY="${1:-.venv/bin/python}"
STAMP="$(dirname "$(dirname "$PY")")/.pl_core_news_sm.checked"
MODEL_URL="https://github.com/explosion/spacy-models/releases/download/pl_core_news_sm-3.4.0/pl_core_news_sm-3.4.0-py3-none-any.whl"

if "$PY" -c "import pl_core_news_sm" 2>/dev/null; then
    echo "pl_core_news_sm: installed"
    exit 0
fi
[ -f "$STAMP" ] && exit 0
if timeout 120 "$PY" -m pip install --quiet --timeout 15 --retries 0 "pl_core_news_sm @ $MODEL_URL" >/dev/null 2>&1; then
    echo "pl_core_news_sm: installed from its release"
else
    echo "NOTE: pl_core_news_sm could not be downloaded here (not served by a reachable registry)."
    echo "      Polish lemmas will come from simplemma; see docs/nlu.md. Delete $STAMP to retry."
fi
touch "$STAMP"
exit 0
