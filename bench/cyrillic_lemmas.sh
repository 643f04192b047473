#!/usr/bin/env bash
# Measure the Ukrainian/Russian lemmatizer choice: the project's pipeline with
# pymorphy3 lemmas (config.yml) against simplemma's and against no Cyrillic lemmas,
# same data and seed, each trained with `rasa train nlu` and scored on the held-out
# sets. Usage: bash bench/cyrillic_lemmas.sh   (about 15 minutes on 2 cores)
# Writes bench/results/nlu_heldout_cyrillic_{pymorphy3,simplemma,none}.md.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for backend in pymorphy3 simplemma none; do
    sed "s/cyrillic_lemmatizer: pymorphy3/cyrillic_lemmatizer: $backend/" config.yml \
        > "$out/config_$backend.yml"
    grep -q "cyrillic_lemmatizer: $backend" "$out/config_$backend.yml"
    start=$(date +%s)
    .venv/bin/rasa train nlu --config "$out/config_$backend.yml" --nlu data/nlu \
        --fixed-model-name "$backend" --out "$out" >/dev/null 2>&1
    echo "$backend: trained in $(( $(date +%s) - start )) s"
    .venv/bin/python -m bench.nlu_heldout --model "$out/nlu-$backend.tar.gz" \
        --out "bench/results/nlu_heldout_cyrillic_$backend.md" 2>/dev/null \
        | grep -E "^\| v[12] (uk|ru) \| [0-9]{3}"
done
