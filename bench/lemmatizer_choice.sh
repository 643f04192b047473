#!/usr/bin/env bash
# Measure the Polish lemmatizer choice: the project's pipeline with simplemma lemmas
# (the model in models/) against the same pipeline with lemmas off, same data.
# Usage: bash bench/lemmatizer_choice.sh   (about 7 minutes on 2 cores)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
out=$(mktemp -d)
start=$(date +%s)
.venv/bin/rasa train --config bench/configs/no_lemmas.yml --fixed-model-name no_lemmas --out "$out" >/dev/null 2>&1
echo "trained the no-lemmas model in $(( $(date +%s) - start )) s"
.venv/bin/python -m bench.nlu_heldout --model "$out/no_lemmas.tar.gz" \
    --out bench/results/nlu_heldout_no_lemmas.md 2>/dev/null | grep -E "^\| (v1|v2)"
rm -rf "$out"
