"""The serving benchmark's report (bench/results/serving.md) from its measurements."""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib.metadata import version
from typing import Any

from bench.report import head_commit, machine
from bench.serve_load import Load


@dataclass
class Results:
    """What one run of bench/serve.py measured (the report's numbers)."""

    seconds: float  # per load level
    # 1. the minimal `rasa init` bot and 2. the full bot, one instance each
    base_loads: list[Load]
    full_loads: list[Load]
    init_train: float  # seconds
    full_train: float
    base_ready: float  # seconds until the server answered
    full_ready: float
    base_load: dict[str, float]  # model_load: imports, load (seconds), rss (MiB)
    full_load: dict[str, float]
    rasa_diet_load: dict[str, float]
    base_rss_warm: float  # MiB
    base_rss_after: float
    full_rss_warm: float
    full_rss_levels: float
    full_rss_after: float
    actions_rss_warm: float
    actions_rss_after: float
    memory_load: Load
    init_parts: dict[str, float]  # training seconds per component
    full_parts: dict[str, float]
    prof: dict[str, Any]  # serve_profile.profile
    # 2b. levers and 3. the production topology: table rows, consistency checks
    lever_rows: list[str] = field(default_factory=list)
    topo_rows: list[str] = field(default_factory=list)
    checks: dict[str, list[dict[str, int]]] = field(default_factory=dict)
    # 4. conversation length (bench/serve_length.py): the section's lines
    length_lines: list[str] = field(default_factory=list)


LOCK_STORES = {
    "shipped": "`iom.rasa.lock_store.AtomicRedisLockStore` (shipped)",
    "rasa": "Rasa 3.6 `RedisLockStore` (baseline)",
}


def consistency_row(name: str, runs: list[dict[str, int]]) -> str:
    """One table row: the consistency checks of one lock store, added up."""
    keys = [
        "messages",
        "lost",
        "duplicated",
        "conversations_differing",
        "answers_not_stored",
    ]
    total = {key: sum(run[key] for run in runs) for key in keys}
    return (
        f"| {name} | {len(runs)} | {total['messages']:,} | {total['lost']} |"
        f" {total['duplicated']} | {total['conversations_differing']} |"
        f" {total['answers_not_stored']} |"
    )


def row(name: str, load: Load, baseline: Load | None = None) -> str:
    ratio = ""
    if baseline:
        ratio = (
            f" | {load.throughput / baseline.throughput:.2f}x"
            f" | {load.pct(0.95) / baseline.pct(0.95):.2f}x"
        )
    else:
        ratio = " | – | –"
    errors = sum(load.errors.values())
    if (
        errors
    ):  # e.g. "empty": a 200 with no message at all (`rasa init` has no fallback)
        kinds = ", ".join(f"{k} {v}" for k, v in sorted(load.errors.items()))
        errors = f"{errors} ({kinds})"  # type: ignore[assignment]
    return (
        f"| {name} | {load.users} | {load.throughput:.1f} | {load.pct(0.5):.0f} |"
        f" {load.pct(0.95):.0f} | {load.pct(0.99):.0f} | {len(load.latencies):,} |"
        f" {errors}{ratio} |"
    )


HEADER = (
    "| bot | users | msg/s | p50 ms | p95 ms | p99 ms | answered | errors |"
    " throughput vs baseline | p95 vs baseline |"
)
RULE = "|---|---|---|---|---|---|---|---|---|---|"


def report(r: Results) -> list[str]:
    """The Markdown lines of bench/results/serving.md."""
    return [
        *one_instance(r),
        *lever_section(r),
        *training_section(r),
        *profile_section(r),
        *topology_section(r),
        *r.length_lines,
    ]


def one_instance(r: Results) -> list[str]:
    """Title, full bot vs minimal bot, start-up and memory."""
    lines: list[str] = []
    commit = head_commit()
    lines += [
        "# Serving benchmark",
        "",
        f"Machine: {machine()}. Commit `{commit}`. `make bench-serve` (bench/serve.py):"
        f" asyncio + aiohttp closed loop, {r.seconds:.0f} s per level after a warm-up,"
        " held-out PL/EN messages, a new conversation every 8 messages, channel rate"
        " limits off. Baseline: `rasa init --no-prompt` (Rasa 3.6.21), trained and"
        " measured in the same run.",
        "",
        "## One instance: full bot vs minimal bot",
        "",
        HEADER,
        RULE,
    ]
    for b, f in zip(r.base_loads, r.full_loads, strict=True):
        lines.append(row("minimal `rasa init`", b))
        lines.append(row("full bot (SQLite, actions, redaction)", f, b))
    lines += [
        "",
        "## Start-up, memory, training",
        "",
        "| | minimal `rasa init` | full bot |",
        "|---|---|---|",
        f"| training (`rasa train`, from scratch) | {r.init_train:.0f} s (inside `rasa init`)"
        f" | {r.full_train:.0f} s |",
        f"| start until the server answers (model load included) | {r.base_ready:.1f} s"
        f" | {r.full_ready:.1f} s |",
        f"| of which: importing Rasa | {r.base_load['imports']:.1f} s"
        f" | {r.full_load['imports']:.1f} s |",
        f"| of which: model load (`Agent.load`, components' warm-up included)"
        f" | {r.base_load['load']:.1f} s | {r.full_load['load']:.1f} s |",
        f"| lever: the same load with Rasa's own DIET loading (one training step"
        f" first; `iom/rasa/nlu/diet.py` explains) | – | {r.rasa_diet_load['load']:.1f} s"
        f" ({r.rasa_diet_load['load'] / r.full_load['load']:.2f}x the shipped) |",
        f"| RSS of a fresh process right after `Agent.load` | {r.base_load['rss']:.0f} MiB"
        f" | {r.full_load['rss']:.0f} MiB (Rasa's DIET loading:"
        f" {r.rasa_diet_load['rss']:.0f} MiB) |",
        f"| Rasa server RSS after warm-up | {r.base_rss_warm:.0f} MiB | {r.full_rss_warm:.0f} MiB |",
        f"| Rasa server RSS after the load levels | {r.base_rss_after:.0f} MiB"
        f" | {r.full_rss_levels:.0f} MiB |",
        f"| Rasa server RSS after {len(r.memory_load.latencies) + sum(r.memory_load.errors.values()):,}"
        f" more messages (10 users) | – | {r.full_rss_after:.0f} MiB"
        f" ({100 * (r.full_rss_after / r.full_rss_warm - 1):+.1f} % from warm-up) |",
        f"| action server RSS (warm-up / after) | – | {r.actions_rss_warm:.0f} /"
        f" {r.actions_rss_after:.0f} MiB |",
        "",
    ]
    return lines


def lever_section(r: Results) -> list[str]:
    """The variations of the full bot (none: no lines)."""
    lines: list[str] = []
    if r.lever_rows:
        lines += [
            "## Levers: variations of the full bot",
            "",
            "Each variation started afresh and loaded as above; the ratio columns compare"
            " it with the full bot as shipped (the rows above, same run).",
            "",
            HEADER.replace("vs baseline", "vs shipped"),
            RULE,
            *r.lever_rows,
            "",
        ]
    return lines


def training_section(r: Results) -> list[str]:
    """Training time by component."""
    lines: list[str] = []
    names = sorted(
        set(r.init_parts) | set(r.full_parts),
        key=lambda n: -max(r.init_parts.get(n, 0), r.full_parts.get(n, 0)),
    )
    lines += [
        "Training time by component (`train` steps, from Rasa's own log lines, whole"
        " seconds; the rest is importing, reading and validating the data, featurizing"
        " and packing the model):",
        "",
        "| component | minimal `rasa init` | full bot |",
        "|---|---|---|",
        *(
            f"| {n} | {r.init_parts.get(n, 0):.0f} s | {r.full_parts.get(n, 0):.0f} s |"
            for n in names
            if max(r.init_parts.get(n, 0), r.full_parts.get(n, 0)) >= 1
        ),
        f"| everything else | {r.init_train - sum(r.init_parts.values()):.0f} s"
        f" | {r.full_train - sum(r.full_parts.values()):.0f} s |",
        "",
    ]
    return lines


def profile_section(r: Results) -> list[str]:
    """Where the time goes (py-spy)."""
    lines: list[str] = []
    busy = max(r.prof["samples"], 1)
    lines += [
        "## Where the full bot's time goes (py-spy, 10 users)",
        "",
        f"py-spy {version('py-spy')} sampled the Rasa server at 100 Hz (non-blocking) during"
        f" another {min(r.seconds, 30):.0f} s at 10 users ({r.prof['load'].throughput:.1f}"
        f" msg/s, p95 {r.prof['load'].pct(0.95):.0f} ms): {r.prof['samples']:,} busy samples of"
        " Python threads: samples that only wait (the event loop inside uvloop, idle"
        " thread-pool workers) are left out. A sample counts for every part on its"
        " stack, so the parts overlap.",
        "",
        "| part | share of busy samples |",
        "|---|---|",
        *(
            f"| {part} | {100 * n / busy:.1f} % |"
            for part, n in r.prof["parts"].items()
        ),
        "",
        "Top frames by own time:",
        "",
        "| frame | share |",
        "|---|---|",
        *(f"| `{frame}` | {100 * n / busy:.1f} % |" for frame, n in r.prof["top"]),
        "",
    ]
    return lines


def topology_section(r: Results) -> list[str]:
    """The production topology (skipped: no lines)."""
    lines: list[str] = []
    if r.topo_rows:
        lines += [
            "## Production topology (PostgreSQL, Redis lock store, nginx)",
            "",
            "Started by `scripts/topology.sh up` (what `make topology` runs). The ratio"
            " columns compare two instances behind nginx, or one instance with two Sanic"
            " workers (`SANIC_WORKERS=2`, started afresh after the consistency check),"
            " with one instance.",
            "",
            HEADER.replace("vs baseline", "vs 1 instance"),
            RULE,
            *r.topo_rows,
            "",
            "Consistency after concurrent load through nginx (two instances; every fifth"
            " turn sends two messages of one conversation at once; each run 50 new"
            " conversations of 20 messages, then every message looked up in PostgreSQL)."
            " Baseline: the same topology started again with Rasa 3.6's own Redis lock"
            " store (`type: redis`), whose ticket issue is not atomic (RasaHQ/rasa#9213,"
            " `bench/results/lock_store.md`):",
            "",
            "| lock store | runs | messages | lost | duplicated | conversations differing"
            " | answers not stored |",
            "|---|---|---|---|---|---|---|",
            *(
                consistency_row(LOCK_STORES[name], runs)
                for name, runs in r.checks.items()
            ),
            "",
        ]
    return lines
