"""The learning loop's live swap on the production topology (scripts/topology.sh).

Two Rasa instances behind nginx, with PostgreSQL and the Redis lock store, their HTTP
API on (127.0.0.1, a token); users talk through nginx while
`iom.tools.retrain.load_into_instances` loads a model into one instance after the
other. No request may fail or be answered by the static fallback. The model is a
copy of the shipped one (a real load; no training).

Needs Debian's postgresql, redis-server and nginx (`make topology-deps`).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import tempfile
import time
import urllib.request
from pathlib import Path

from iom.tools import retrain, supervision
from iom.tools.launch import free_port
from tests.conftest import MODEL
from tests.test_supervision import (
    KCIK,
    LOOKUP,
    MIGRANT_INFO,
    SUPERVISORD,
    TRAFFICKING,
    Load,
    need,
)
from tests.test_supervision_topology import topology, two_free_ports


def test_topology_swaps_both_instances_under_load_through_nginx(
    tmp_path: Path,
) -> None:
    need(SUPERVISORD.exists(), f"{SUPERVISORD} is missing: make install")
    for tool in ("nginx", "redis-server"):
        need(bool(shutil.which(tool)), f"{tool} is missing: make topology-deps")
    need(
        any(Path("/usr/lib/postgresql").glob("*/bin/initdb")),
        "PostgreSQL is missing: make topology-deps",
    )
    token = secrets.token_hex(24)
    state = Path(tempfile.mkdtemp(prefix="iom-topology-"))
    base = two_free_ports()
    env = {
        **os.environ,
        "TOPOLOGY_DIR": str(state),
        "RASA_INSTANCES": "2",
        "RASA_INSTANCE_BASE_PORT": str(base),
        "RASA_PORT": str(free_port()),
        "ACTION_PORT": str(free_port()),
        "PG_PORT": str(free_port()),
        "REDIS_PORT": str(free_port()),
        "RASA_HOST": "127.0.0.1",
        "ACTION_HOST": "127.0.0.1",
        "TOPOLOGY_RATE_PER_MIN": "0",
        "RATE_LIMIT_SENDER_PER_MIN": "30",
        "TOPOLOGY_ENDPOINTS": "deploy/endpoints.yml",
        "RASA_ENABLE_API": "1",
        "RASA_API_TOKEN": token,
    }
    for name in ("POSTGRES_PASSWORD", "REDIS_PASSWORD", "TRACKER_URL"):
        env.pop(name, None)
    instances = [f"http://127.0.0.1:{base + i}" for i in range(2)]
    new_model = tmp_path / "candidate" / "model.tar.gz"
    new_model.parent.mkdir()
    shutil.copyfile(MODEL, new_model)
    try:
        topology("up", env)
        with Load(int(env["RASA_PORT"]), clients=6) as load:
            time.sleep(3)
            began = time.monotonic()
            swap = retrain.load_into_instances(new_model, instances, token, None)
            swap_seconds = time.monotonic() - began
            time.sleep(3)
        assert swap.loaded == instances
        during = [r for r in load.replies if r[0] >= began - 1]
        assert during, "no request during the swap"
        failed = [r for r in load.replies if r[2] != 200 or not r[3]]
        assert failed == [], failed[:3]
        lookups = load.of(LOOKUP)
        assert lookups and all(MIGRANT_INFO in r[3] for r in lookups), lookups[:3]
        assert all(KCIK in r[3] for r in load.of(TRAFFICKING))
        for url in instances:
            with urllib.request.urlopen(f"{url}/status?token={token}", timeout=30) as r:
                assert json.load(r)["model_id"] == retrain.model_id_of(new_model)
        print(
            f"\ntopology swap (2 instances behind nginx): {swap_seconds:.1f} s; "
            f"{len(load.replies)} requests ({len(during)} from the swap on), 0 failed"
        )
    finally:
        try:
            topology("down", env, timeout=200)
        finally:
            if supervision.alive(state):
                os.kill(supervision.connect(state).supervisor.getPID(), signal.SIGKILL)
            shutil.rmtree(state, ignore_errors=True)
