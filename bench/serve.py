"""Serving benchmark: the full bot vs a minimal `rasa init` bot, and one vs two instances.

    make bench-serve        # writes bench/results/serving.md (about 30 minutes)

Load tool: an asyncio closed-loop client on aiohttp (already in Rasa's venv): each
simulated user posts one message to POST /webhooks/rest/webhook, waits for the
answer, and posts the next; it starts a new conversation every 8 messages. Messages
are the held-out NLU sets (tests/nlu_heldout/v2, Polish and English, shuffled).

Runs, all in one go on the same machine:
1. baseline: `rasa init --no-prompt` (Rasa 3.6.21's minimal bot, its own config,
   in-memory tracker store), trained here; 1, 10 and 50 users;
2. the full bot as `make run` starts it (SQLite tracker store with redaction, custom
   actions); 1, 10 and 50 users; py-spy samples of the server during another 10-user
   load (where the time goes); then 10,000 messages for the memory growth; the
   training time by component (Rasa's log lines) and the model load time alone
   (`Agent.load` in a fresh process, apart from importing Rasa), also with Rasa's
   own DIET loading instead of iom/rasa/nlu/diet.py's (a lever);
2b. levers: the full bot again with one setting changed (the tracker store on the
   event loop; TensorFlow on one thread), at 10 and 50 users;
3. the production topology (scripts/topology.sh: PostgreSQL, Redis lock store, nginx,
   two Rasa instances): 10 and 50 users against one instance and through nginx to two,
   then a consistency check, 3 times: 50 users x 20 messages, some sent two at once,
   through nginx; every message must be stored exactly once, in order, with its
   answers; the same check on the topology started again with Rasa 3.6's own Redis
   lock store (the baseline, RasaHQ/rasa#9213); then one instance with two Sanic
   workers (`SANIC_WORKERS=2`) at 10 and 50 users.
4. conversation length (bench/serve_length.py, issue 19): turns 2-11 vs 91-100 of
   one conversation, and 10 users in 30-message conversations, for the minimal bot,
   the full bot with and without the tracker cache, and the topology with and
   without it (plus 1 vs 2 instances at 10 users and a consistency check).
   `--only-length` runs this part alone and puts its section into serving.md,
   keeping the rest of the file.
The channels' rate limits are switched off for the load (they would answer most
requests with a 429 in a closed loop); the numbers are the bot's own cost.

The modules: serve_load.py (the bots, the users), serve_profile.py (py-spy, model
load, training time), serve_topology.py (scripts/topology.sh, the consistency check),
serve_report.py (the Markdown); this one runs them in order.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import time
from pathlib import Path

import yaml

from bench.report import head_commit, machine, write_report
from bench.serve_length import (
    Measured,
    alternating,
    busy,
    endpoints_without_cache,
    interleaved,
    replace_section,
)
from bench.serve_length import report as length_report
from bench.serve_load import (
    NO_LIMITS,
    RASA,
    VAR,
    Load,
    Server,
    full_bot,
    heldout_messages,
    levels,
    rss_mib,
    run_load,
)
from bench.serve_profile import (
    baseline_bot,
    component_seconds,
    model_load,
    profile,
    timed,
)
from bench.serve_report import LOCK_STORES, Results, consistency_row, report, row
from bench.serve_topology import consistency, topology
from iom.core.settings import ROOT
from iom.tools.launch import free_port, two_free_ports


def levers(on_loop: Path) -> list[tuple[str, str, dict[str, str]]]:
    """Variations of the full bot: (name, endpoints file, extra environment)."""
    return [
        ("tracker store on the event loop (`off_loop: false`)", str(on_loop), {}),
        (
            "TensorFlow on 1 intra-op and 1 inter-op thread",
            "endpoints.yml",
            {
                "TF_INTRA_OP_PARALLELISM_THREADS": "1",
                "TF_INTER_OP_PARALLELISM_THREADS": "1",
            },
        ),
    ]


def arguments() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30, help="per load level")
    parser.add_argument("--memory-messages", type=int, default=10_000)
    parser.add_argument("--skip-topology", action="store_true")
    parser.add_argument(
        "--consistency-runs",
        type=int,
        default=3,
        help="consistency checks per lock store (1,000 messages each)",
    )
    parser.add_argument(
        "--skip-levers", action="store_true", help="do not measure the variations"
    )
    parser.add_argument(
        "--skip-train", action="store_true", help="do not time a full training (smoke)"
    )
    parser.add_argument(
        "--only-length",
        action="store_true",
        help="only the conversation-length section (issue 19), put into --out",
    )
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "serving.md"))
    return parser


def topology_env() -> dict[str, str]:
    """The topology on free ports (another run of it may use the defaults)."""
    return {
        **NO_LIMITS,
        "TOPOLOGY_RATE_PER_MIN": "0",
        "RASA_PORT": str(free_port()),
        "ACTION_PORT": str(free_port()),
        "RASA_INSTANCE_BASE_PORT": str(two_free_ports()),
        "PG_PORT": str(free_port()),
        "REDIS_PORT": str(free_port()),
        "TOPOLOGY_DIR": str(VAR / "topology"),
    }


def measure_length(
    args: argparse.Namespace, messages: list[str], init_dir: Path | None = None
) -> list[str]:
    """4. Conversation length (bench/serve_length.py): the section's lines."""
    if init_dir is None:
        init_dir, _ = baseline_bot()
    init_model = next((init_dir / "models").glob("*.tar.gz"))
    no_cache = endpoints_without_cache(ROOT / "endpoints.yml", "endpoints-no-cache.yml")
    servers: dict[str, Server] = {}
    try:  # side by side, measured in turns
        servers["minimal `rasa init`"] = Server(
            "init-length",
            init_dir,
            init_model,
            "endpoints.yml",
            "credentials.yml",
            actions=False,
            env={},
        )
        for name, endpoints, db in (
            ("full bot (SQLite, tracker cache as shipped)", "endpoints.yml", "cache"),
            (
                "full bot, `cache_size: 0` (Rasa's loading and saving)",
                str(no_cache),
                "no-cache",
            ),
        ):
            (VAR / f"length-{db}.db").unlink(missing_ok=True)
            servers[name] = full_bot(f"length-{db}", endpoints, VAR / f"length-{db}.db")
        bots = interleaved(
            {name: server.url for name, server in servers.items()}, messages
        )
    finally:
        for server in servers.values():
            server.close()
    topo: list[Measured] = []
    topo_rows: list[str] = []
    checks: list[dict[str, int]] = []
    if not args.skip_topology:
        topo, topo_rows, checks = measure_length_topology(args, messages)
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    note = (
        f"Machine: {machine()}. Commit `{head_commit()}`, {when}."
        + (
            " Measured by `bench/serve.py --only-length` (this section only; the"
            " sections above come from the last full run)."
            if args.only_length
            else ""
        )
        + f" Topology levels: {args.seconds:.0f} s per level. Every bot started"
        " afresh; the ratio columns compare with the minimal bot measured in the same"
        " run."
    )
    lines = length_report(bots, topo, topo_rows, note)
    if checks:
        lines += [
            "Consistency on the topology with the cache (two instances through nginx;"
            " every fifth turn two messages of one conversation at once; 50"
            " conversations of 20 messages per run, then every message looked up in"
            " PostgreSQL):",
            "",
            "| lock store | runs | messages | lost | duplicated | conversations"
            " differing | answers not stored |",
            "|---|---|---|---|---|---|---|",
            consistency_row(LOCK_STORES["shipped"], checks),
            "",
        ]
    return lines


def measure_length_topology(
    args: argparse.Namespace, messages: list[str]
) -> tuple[list[Measured], list[str], list[dict[str, int]]]:
    """The topology with the cache (shipped) and without: growth, load, consistency."""
    env = topology_env()
    one = f"http://127.0.0.1:{env['RASA_INSTANCE_BASE_PORT']}/webhooks/rest/webhook"
    both = f"http://127.0.0.1:{env['RASA_PORT']}/webhooks/rest/webhook"
    measured: list[Measured] = []
    rows: list[str] = []
    checks: list[dict[str, int]] = []
    reference: Load | None = None
    no_cache = endpoints_without_cache(
        ROOT / "deploy" / "endpoints.yml", "endpoints-topology-no-cache.yml"
    )
    variants: list[tuple[str, dict[str, str]]] = [
        ("tracker cache", {}),
        ("`cache_size: 0`", {"TOPOLOGY_ENDPOINTS": str(no_cache)}),
    ]
    for label, extra in variants:
        shutil.rmtree(VAR / "topology", ignore_errors=True)
        run_env = {**env, **extra}
        topology("up", run_env)
        try:
            loads = alternating({"one": one, "both": both}, messages, 10, args.seconds)
            one_name = busy(f"topology, 1 instance, {label}", loads["one"])
            both_name = busy(f"topology, 2 instances (nginx), {label}", loads["both"])
            rows.append(row(one_name, loads["one"], reference))
            rows.append(row(both_name, loads["both"], loads["one"]))
            reference = reference or loads["one"]
            measured += interleaved(
                {f"topology, 2 instances (nginx), {label}": both}, messages
            )
            if not extra:
                tracker_url = topology("env", run_env).strip().split("=", 1)[1]
                checks = [
                    consistency(both, tracker_url) for _ in range(args.consistency_runs)
                ]
        finally:
            topology("down", run_env)
    return measured, rows, checks


def measure(args: argparse.Namespace) -> Results:
    """Every measurement, in order (the module's docstring lists them)."""
    messages = heldout_messages()
    users = [1, 10, 50]
    VAR.mkdir(parents=True, exist_ok=True)

    # 1. baseline
    init_dir, init_train = baseline_bot()
    init_model = next((init_dir / "models").glob("*.tar.gz"))
    base = Server(
        "init",
        init_dir,
        init_model,
        "endpoints.yml",
        "credentials.yml",
        actions=False,
        env={},
    )
    base_rss_warm = rss_mib(base.rasa.pid)
    base_loads = levels(base.url, messages, users, args.seconds)
    base_rss_after = rss_mib(base.rasa.pid)
    base_ready = base.ready_seconds
    base.close()
    base_load = model_load(init_dir, init_model, {})

    # 2. the full bot, embedded default (SQLite with redaction)
    train_dir = VAR / "train"
    shutil.rmtree(train_dir, ignore_errors=True)
    full_train = (
        0.0
        if args.skip_train
        else timed(
            [
                RASA,
                "train",
                "--force",
                "--out",
                str(train_dir),
                "--fixed-model-name",
                "iom",
            ],
            ROOT,
            log="train-full",
        )
    )
    init_parts = component_seconds("init")
    full_parts = {} if args.skip_train else component_seconds("train-full")
    db = VAR / "full.db"
    db.unlink(missing_ok=True)
    full = full_bot("full", "endpoints.yml", db)
    full_rss_warm = rss_mib(full.rasa.pid)
    actions_rss_warm = rss_mib(full.actions.pid) if full.actions else 0.0
    full_loads = levels(full.url, messages, users, args.seconds)
    full_rss_levels = rss_mib(full.rasa.pid)
    prof = profile(full.rasa.pid, full.url, messages, min(args.seconds, 30))
    memory_load = asyncio.run(
        run_load(full.url, 10, 0, messages, total=args.memory_messages)
    )
    full_rss_after = rss_mib(full.rasa.pid)
    actions_rss_after = rss_mib(full.actions.pid) if full.actions else 0.0
    full_ready = full.ready_seconds
    full.close()
    full_load = model_load(ROOT, ROOT / "models" / "iom.tar.gz", {})
    rasa_diet_load = model_load(
        ROOT, ROOT / "models" / "iom.tar.gz", {}, "rasa-diet-loading"
    )

    # 2b. variations of the full bot (levers), each at 10 and 50 users
    lever_rows = measure_levers(args, messages, full_loads, db)
    # 3. production topology
    topo_rows, checks = measure_topology(args, messages)
    # 4. conversation length
    length_lines = measure_length(args, messages, init_dir)
    return Results(
        seconds=args.seconds,
        base_loads=base_loads,
        full_loads=full_loads,
        init_train=init_train,
        full_train=full_train,
        base_ready=base_ready,
        full_ready=full_ready,
        base_load=base_load,
        full_load=full_load,
        rasa_diet_load=rasa_diet_load,
        base_rss_warm=base_rss_warm,
        base_rss_after=base_rss_after,
        full_rss_warm=full_rss_warm,
        full_rss_levels=full_rss_levels,
        full_rss_after=full_rss_after,
        actions_rss_warm=actions_rss_warm,
        actions_rss_after=actions_rss_after,
        memory_load=memory_load,
        init_parts=init_parts,
        full_parts=full_parts,
        prof=prof,
        lever_rows=lever_rows,
        topo_rows=topo_rows,
        checks=checks,
        length_lines=length_lines,
    )


def measure_levers(
    args: argparse.Namespace, messages: list[str], full_loads: list[Load], db: Path
) -> list[str]:
    """2b. Variations of the full bot (levers), each at 10 and 50 users: table rows.

    Compared with the full bot as shipped (`full_loads`, the same run).
    """
    lever_rows: list[str] = []
    if not args.skip_levers:
        on_loop = VAR / "endpoints-on-loop.yml"
        endpoints = yaml.safe_load((ROOT / "endpoints.yml").read_text(encoding="utf-8"))
        endpoints["tracker_store"]["off_loop"] = False
        on_loop.write_text(yaml.safe_dump(endpoints), encoding="utf-8")
        for name, endpoints_file, extra in levers(on_loop):
            db.unlink(missing_ok=True)
            variant = full_bot("lever", endpoints_file, db, extra)
            try:
                loads = levels(variant.url, messages, [10, 50], args.seconds)
            finally:
                variant.close()
            shipped = {load.users: load for load in full_loads}
            lever_rows += [row(name, load, shipped[load.users]) for load in loads]
    return lever_rows


def measure_topology(
    args: argparse.Namespace, messages: list[str]
) -> tuple[list[str], dict[str, list[dict[str, int]]]]:
    """3. The production topology: table rows, consistency checks per lock store."""
    topo_rows: list[str] = []
    checks: dict[str, list[dict[str, int]]] = {}
    if not args.skip_topology:
        env = topology_env()
        shutil.rmtree(VAR / "topology", ignore_errors=True)
        topology("up", env)
        try:
            one = (
                f"http://127.0.0.1:{env['RASA_INSTANCE_BASE_PORT']}"
                "/webhooks/rest/webhook"
            )
            both = f"http://127.0.0.1:{env['RASA_PORT']}/webhooks/rest/webhook"
            singles = levels(one, messages, [10, 50], args.seconds)
            doubles = levels(both, messages, [10, 50], args.seconds)
            for s, d in zip(singles, doubles, strict=True):
                topo_rows.append(row("topology, 1 instance", s))
                topo_rows.append(row("topology, 2 instances (nginx)", d, s))
            tracker_url = topology("env", env).strip().split("=", 1)[1]
            checks["shipped"] = [
                consistency(both, tracker_url) for _ in range(args.consistency_runs)
            ]
        finally:
            topology("down", env)
        # the baseline: the same topology on Rasa 3.6's own Redis lock store
        rasa_lock = VAR / "endpoints-rasa-lock.yml"
        production = yaml.safe_load((ROOT / "deploy" / "endpoints.yml").read_text())
        production["lock_store"]["type"] = "redis"
        rasa_lock.write_text(yaml.safe_dump(production), encoding="utf-8")
        rasa_env = {**env, "TOPOLOGY_ENDPOINTS": str(rasa_lock)}
        topology("up", rasa_env)
        try:
            checks["rasa"] = [
                consistency(both, tracker_url) for _ in range(args.consistency_runs)
            ]
        finally:
            topology("down", rasa_env)
        # lever: one instance with two Sanic workers (Rasa allows more than one
        # worker only with a shared lock store such as Redis)
        workers_env = {**env, "RASA_INSTANCES": "1", "SANIC_WORKERS": "2"}
        topology("up", workers_env)
        try:
            workers = levels(one, messages, [10, 50], args.seconds)
        finally:
            topology("down", workers_env)
        topo_rows += [
            row("topology, 1 instance with 2 Sanic workers", w, s)
            for s, w in zip(singles, workers, strict=True)
        ]
    return topo_rows, checks


def main() -> int:
    args = arguments().parse_args()
    if args.only_length:
        VAR.mkdir(parents=True, exist_ok=True)
        lines = measure_length(args, heldout_messages())
        return write_report(replace_section(Path(args.out), lines), args.out)
    return write_report(report(measure(args)), args.out)


if __name__ == "__main__":
    sys.exit(main())
