"""The product started the way `make run` does (scripts/run.sh under supervisord), on
free ports with its own var/ directory, and each process killed in turn (SIGKILL, a
crash): the others keep serving, supervision starts it again, nothing is lost.

In order: status; the action server killed under load; the console; the widget page
server; the retention job; Rasa itself with the widget open in Chromium; Ctrl-C.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from iom.tools import supervision
from iom.tools.browser import launch
from iom.tools.launch import free_port
from tests.conftest import MODEL, ROOT
from tests.test_supervision import (
    DANGER,
    KCIK,
    LOOKUP,
    MIGRANT_INFO,
    SUPERVISORD,
    TRAFFICKING,
    Load,
    info,
    kill,
    need,
    restarted,
    say,
    up,
    wait_until,
)

BUNDLE = ROOT / "widget" / "dist" / "iom-chat.js"
CONSOLE_PYTHON = ROOT / ".venv-console" / "bin" / "python"
PROGRAMS = ["actions", "console", "rasa", "retention", "widget"]
TIMINGS: dict[str, float] = {}  # printed at the end (pytest -s), for the report
# sent while Rasa is frozen, then Rasa is killed: answered after the restart
IN_FLIGHT = "co to jest IOM?"
IN_FLIGHT_ANSWER = "agencja ONZ do spraw migracji"


@dataclass
class Product:
    """scripts/run.sh running on free ports."""

    process: subprocess.Popen
    env: dict[str, str]
    state: Path
    ports: dict[str, int]
    output: Path
    pids: set[int] = field(default_factory=set)
    restarts: dict[str, int] = field(default_factory=dict)  # before the kills

    def url(self, name: str) -> str:
        path = {"actions": "/health", "rasa": "/", "widget": "/healthz"}
        return f"http://127.0.0.1:{self.ports[name]}{path.get(name, '/healthz')}"

    def remember_pids(self) -> None:
        for process in supervision.connect(self.state).supervisor.getAllProcessInfo():
            if process["pid"]:
                self.pids.add(process["pid"])


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture(scope="module")
def product(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Product]:
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run `make train` (make test does)")
    need(SUPERVISORD.exists(), f"{SUPERVISORD} is missing: make install")
    need(BUNDLE.exists(), f"{BUNDLE} is missing: make widget")
    need(CONSOLE_PYTHON.exists(), f"{CONSOLE_PYTHON} is missing: make console-install")
    tmp = tmp_path_factory.mktemp("run")
    ports = {n: free_port() for n in ("rasa", "actions", "widget", "console")}
    var = tmp / "var"
    env = {
        **os.environ,
        "VAR_DIR": str(var),
        "TRACKER_URL": f"sqlite:///{var / 'rasa.db'}",
        "RASA_HOST": "127.0.0.1",
        "RASA_PORT": str(ports["rasa"]),
        "ACTION_HOST": "127.0.0.1",
        "ACTION_PORT": str(ports["actions"]),
        "WIDGET_HOST": "127.0.0.1",
        "WIDGET_PORT": str(ports["widget"]),
        "CONSOLE_HOST": "127.0.0.1",
        "CONSOLE_PORT": str(ports["console"]),
        "CORS_ORIGIN": f"http://127.0.0.1:{ports['widget']}",
        "RASA_ENABLE_API": "0",
        # every test client is 127.0.0.1: per-IP limit off, per-sender on
        "RATE_LIMIT_IP_PER_MIN": "0",
        "RATE_LIMIT_SENDER_PER_MIN": "30",
    }
    env.pop("WIDGET_SOCKET_URL", None)
    output = tmp / "run.out"
    began = time.monotonic()
    with open(output, "w") as out:
        process = subprocess.Popen(
            ["bash", "scripts/run.sh"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, as in a terminal
        )
    running = Product(process, env, var / "run", ports, output)
    try:
        for name in ports:
            wait_until(lambda n=name: up(running.url(n)), 240, f"{name} up")
        TIMINGS["start (all four answer)"] = time.monotonic() - began
        running.remember_pids()
        yield running
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGINT)
            try:
                process.wait(90)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        for pid in running.pids:  # what this test started, should anything be left
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
        if TIMINGS:
            print("\nsupervision timings (s):", json.dumps(TIMINGS, indent=1))


def status_table(product: Product) -> str:
    done = subprocess.run(
        ["make", "-s", "status"],
        cwd=ROOT,
        env=product.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return done.stdout + done.stderr


COLUMNS = ("process", "state", "pid", "uptime", "restarts", "health", "last exit")


def rows(table: str) -> dict[str, dict[str, str]]:
    """The status table by process and column."""
    lines = table.splitlines()
    at = next(
        i for i, line in enumerate(lines) if line.split()[:2] == ["process", "state"]
    )
    starts = [lines[at].index(column) for column in COLUMNS]
    found = {}
    for line in lines[at + 1 :]:
        if not line.startswith("  ") or line.strip().startswith("logs:"):
            break
        cells = [
            line[a:b].strip() for a, b in zip(starts, [*starts[1:], None], strict=True)
        ]
        found[cells[0]] = dict(zip(COLUMNS, cells, strict=True))
    return found


def test_make_status_shows_every_process_running(product: Product) -> None:
    # A program counts as started once it has run `startsecs` (10 s for Rasa and the
    # action server); it may answer its health check sooner, so look again until
    # supervisord has moved every program on from STARTING.
    deadline = time.monotonic() + 30
    while True:
        table = status_table(product)
        found = rows(table)
        starting = [n for n in PROGRAMS if found.get(n, {}).get("state") == "STARTING"]
        if not starting or time.monotonic() > deadline:
            break
        time.sleep(1)
    for name in PROGRAMS:
        assert found[name]["state"] == "RUNNING", table
        product.restarts[name] = int(found[name]["restarts"])  # 0 unless it crashed
    for name in ("actions", "rasa", "widget", "console"):
        assert found[name]["health"] == "up", table


def test_action_server_killed_under_load(product: Product) -> None:
    rasa = product.ports["rasa"]
    with Load(rasa, clients=3) as load:
        wait_until(lambda: len(load.replies) >= 6, 60, "load running")
        old = kill(product.state, "actions")
        killed = time.monotonic()
        TIMINGS["action server /health again"] = wait_until(
            lambda: up(product.url("actions")), 60, "action server /health"
        )

        def lookup_works() -> bool:
            status, texts = say(rasa, LOOKUP)
            text = "\n".join(texts)
            return status == 200 and "Infolinia Migrant Info (IOM)" in text

        wait_until(lookup_works, 30, "a contact lookup after the restart")
        TIMINGS["action server: lookup works again"] = time.monotonic() - killed
        time.sleep(2)
    product.remember_pids()
    replies = load.replies
    assert len(replies) >= 20, len(replies)
    failed = [(r[1], r[2]) for r in replies if r[2] != 200]
    assert (
        not failed
    ), f"requests without a 200 answer: {failed}"  # no 5xx, none refused
    for _, _, _, text in load.of(TRAFFICKING):
        assert KCIK in text, text
    for _, _, _, text in load.of(DANGER):
        assert "112" in text.splitlines()[0], text
    lookups = load.of(LOOKUP)
    for _, _, _, text in lookups:  # the directory's answer or the static one
        assert MIGRANT_INFO in text, text
    static = [r for r in lookups if r[3].startswith("Przepraszam")]
    assert static, "no lookup arrived while the action server was down"
    assert all("112" in r[3] for r in static)
    assert all(r[0] >= killed - 1 for r in static)
    after = [
        r
        for r in lookups
        if r[0] > killed + TIMINGS["action server: lookup works again"]
    ]
    assert after and not any(r[3].startswith("Przepraszam") for r in after)
    assert restarted(product.state, "actions", old)
    TIMINGS["action server: messages under load"] = len(replies)
    TIMINGS["action server: static lookup answers while down"] = len(static)
    record = supervision.restart_records(product.state)["actions"]
    assert record["restarts"] == product.restarts.get("actions", 0) + 1
    assert "SIGKILL" in record["last_exit"]


@pytest.mark.parametrize("name", ["console", "widget"])
def test_the_bot_keeps_answering_while_a_page_server_restarts(
    product: Product, name: str
) -> None:
    other = "widget" if name == "console" else "console"
    old = kill(product.state, name)
    killed = time.monotonic()
    status, texts = say(product.ports["rasa"], TRAFFICKING)  # while it is down
    assert status == 200 and KCIK in "\n".join(texts)
    assert up(product.url(other)) and up(product.url("actions"))
    TIMINGS[f"{name} answers again"] = wait_until(
        lambda: up(product.url(name)), 60, f"{name} back"
    )
    assert time.monotonic() - killed < 60
    assert restarted(product.state, name, old)
    product.remember_pids()


def test_the_retention_job_is_restarted(product: Product) -> None:
    old = kill(product.state, "retention")
    wait_until(lambda: restarted(product.state, "retention", old), 30, "retention")
    product.remember_pids()


def test_rasa_killed_the_widget_shows_the_key_lines_then_reconnects_and_answers(
    product: Product,
) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    widget = f"http://127.0.0.1:{product.ports['widget']}/"
    with sync_api.sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            page = browser.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.set_default_timeout(30_000)
            page.goto(widget)
            page.click("#iomc-launcher")
            page.wait_for_function("() => window.IOMChat && window.IOMChat.connected()")
            page.fill("#iomc-input", "cześć")
            page.keyboard.press("Enter")
            page.locator(".iomc-bot", has_text="Dzień dobry").first.wait_for()

            # A message in flight when Rasa dies: Rasa is frozen (SIGSTOP) so that it
            # receives the message but cannot answer, then killed. The widget must
            # send it again after reconnecting, not drop it.
            os.kill(info(product.state, "rasa")["pid"], signal.SIGSTOP)
            page.fill("#iomc-input", IN_FLIGHT)
            page.keyboard.press("Enter")
            page.wait_for_function(
                "() => JSON.parse(sessionStorage.getItem('iomChat')).awaiting.length"
            )
            old = kill(product.state, "rasa")
            killed = time.monotonic()
            page.wait_for_function("() => !window.IOMChat.connected()", timeout=15_000)
            offline = page.locator("#iomc-offline")
            offline.wait_for(state="visible", timeout=15_000)
            TIMINGS["rasa: widget shows its offline lines"] = time.monotonic() - killed
            for number in ("112", "+48226280120", "+48605687750", "+48224902044"):
                assert offline.locator(f'a[href="tel:{number}"]').count() == 1
            # typed while Rasa is down: kept and shown as waiting, not dropped
            page.fill("#iomc-input", LOOKUP)
            page.keyboard.press("Enter")
            page.wait_for_selector(".iomc-user.iomc-pending")
            assert "po odzyskaniu połączenia" in page.inner_text("#iomc-status")
            stored = json.loads(page.evaluate("sessionStorage.getItem('iomChat')"))
            assert stored["pending"], "the unsent message must be kept"
            # a REST client is refused (no answer at all), never given a 5xx
            assert say(product.ports["rasa"], TRAFFICKING)[0] == 0

            page.wait_for_function(
                "() => window.IOMChat.connected()", timeout=180_000, polling=500
            )
            TIMINGS["rasa: widget reconnected"] = time.monotonic() - killed
            page.locator(
                ".iomc-bot", has_text="Infolinia Migrant Info (IOM)"
            ).first.wait_for()
            page.locator(".iomc-bot", has_text=IN_FLIGHT_ANSWER).first.wait_for()
            TIMINGS["rasa: the waiting message answered"] = time.monotonic() - killed
            assert page.locator(".iomc-pending").count() == 0
            assert offline.is_hidden()
            assert not errors, errors
        finally:
            browser.close()
    assert restarted(product.state, "rasa", old)
    status, texts = say(product.ports["rasa"], TRAFFICKING)
    assert status == 200 and KCIK in "\n".join(texts)
    product.remember_pids()


def test_make_status_counts_the_restarts_and_logs_their_exit(product: Product) -> None:
    table = status_table(product)
    found = rows(table)
    for name in PROGRAMS:  # each was killed once
        assert int(found[name]["restarts"]) == product.restarts.get(name, 0) + 1, table
        assert found[name]["last exit"].startswith("terminated by SIGKILL"), table
        assert found[name]["state"] == "RUNNING", table
    restarts = (product.state / "logs" / "restarts.log").read_text()
    for name in PROGRAMS:
        assert f"{name}: exited (terminated by SIGKILL; not expected)" in restarts
    # the terminal (supervisord's log) shows every exit too
    output = product.output.read_text()
    for name in PROGRAMS:
        assert f"exited: {name} (terminated by SIGKILL; not expected)" in output


def test_ctrl_c_stops_everything(product: Product) -> None:
    product.remember_pids()
    pids = {
        p["pid"]
        for p in supervision.connect(product.state).supervisor.getAllProcessInfo()
    }
    assert len(pids - {0}) == len(PROGRAMS) + 1  # and the restart listener
    began = time.monotonic()
    os.killpg(product.process.pid, signal.SIGINT)  # what Ctrl-C in the terminal sends
    product.process.wait(90)
    TIMINGS["Ctrl-C: all stopped"] = time.monotonic() - began
    assert not [pid for pid in pids if pid and alive(pid)]
    for name in ("rasa", "actions", "widget", "console"):
        assert not up(product.url(name))
    assert "received SIGINT" in product.output.read_text()
    with pytest.raises(OSError):
        info(product.state, "rasa")
