"""The deployment descriptions match what `make topology` starts (docs/deploy.md)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from iom.tools.render_nginx import render
from tests.conftest import ROOT

DEPLOY = ROOT / "deploy"


def test_compose_has_the_topology_services() -> None:
    compose = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    assert set(compose["services"]) == {
        "postgres",
        "redis",
        "actions",
        "rasa-1",
        "rasa-2",
        "nginx",
    }
    rasa = compose["services"]["rasa-1"]
    assert rasa["environment"]["RATE_LIMIT_IP_PER_MIN"] == "0"
    assert "REDIS_PASSWORD" in rasa["environment"]
    assert "--endpoints" in (DEPLOY / "Dockerfile").read_text()
    assert "deploy/endpoints.yml" in (DEPLOY / "Dockerfile").read_text()


def test_production_endpoints_keep_redaction_and_add_the_lock_store() -> None:
    production = yaml.safe_load((DEPLOY / "endpoints.yml").read_text())
    embedded = yaml.safe_load((ROOT / "endpoints.yml").read_text())
    assert production["tracker_store"] == embedded["tracker_store"]
    assert production["action_endpoint"] == embedded["action_endpoint"]
    assert (
        production["lock_store"]["type"] == "iom.rasa.lock_store.AtomicRedisLockStore"
    )
    assert production["lock_store"]["password"] == "${REDIS_PASSWORD}"


def test_compose_nginx_is_the_rendered_template() -> None:
    committed = (DEPLOY / "nginx.compose.conf").read_text().split("\n", 1)[1]
    assert committed == render(
        "/tmp", "0.0.0.0", 80, 300, ["rasa-1:5005", "rasa-2:5005"]
    )


def test_rendered_nginx_limits_per_ip_unless_switched_off() -> None:
    limited = render("/s", "127.0.0.1", 5005, 300, ["127.0.0.1:5011"])
    assert "limit_req zone=perip burst=50 nodelay;" in limited
    assert "rate=300r/m" in limited and not re.search(r"@[A-Z]+@", limited)
    assert "limit_req zone" not in render("/s", "h", 1, 0, ["a:1"])


@pytest.mark.skipif(not shutil.which("nginx"), reason="nginx not installed")
def test_nginx_accepts_the_rendered_configuration(tmp_path: Path) -> None:
    conf = tmp_path / "nginx.conf"
    conf.write_text(render(str(tmp_path), "127.0.0.1", 5005, 300, ["127.0.0.1:5011"]))
    done = subprocess.run(
        ["nginx", "-t", "-c", str(conf), "-p", str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr


def test_deploy_doc_names_what_make_starts() -> None:
    doc = (ROOT / "docs" / "deploy.md").read_text()
    script = (ROOT / "scripts" / "topology.sh").read_text()
    for name in ("make topology", "RASA_INSTANCES", "PG_PORT", "REDIS_PORT"):
        assert name in doc and name.split()[-1] in script + "make topology"
    for service in ("postgres", "redis", "actions", "rasa-1", "rasa-2", "nginx"):
        assert f"`{service}`" in doc
