"""Every setting the product reads from the environment, in one place.

A frozen :class:`Settings`, read by :func:`current` from the process's environment or
built from any mapping by :func:`from_env` (tests pass a dict). A bad value raises
:class:`SettingsError` naming the variable, so a typo in `.env` stops a service at
start instead of surfacing as a stack trace in the middle of a conversation.
Defaults match `scripts/env.sh` and `.env.example`. Shell-only settings of the
production topology (PostgreSQL, Redis, nginx) are read by `scripts/topology.sh`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


class SettingsError(ValueError):
    """An environment variable holds a value the product cannot use."""


@dataclass(frozen=True)
class Settings:
    """The product's settings (docs/deploy.md lists them with their meaning)."""

    var_dir: Path
    tracker_url: str
    contacts_file: Path
    domain_file: Path
    retention_days: int
    rasa_host: str
    rasa_port: int
    rasa_enable_api: bool
    rasa_api_url: str
    rasa_api_token: str
    socketio_redis_url: str | None
    takeover_gone_seconds: float
    takeover_idle_seconds: float
    rasa_api_urls: tuple[str, ...]
    models_keep: int
    live_model: Path
    candidates_dir: Path
    gate_min_safety_recall: float
    gate_max_safety_drop: float
    gate_max_f1_drop: float
    gate_safety_alpha: float
    retrain_finetune: float
    states_cache_size: int
    action_host: str
    action_port: int
    widget_host: str
    widget_port: int
    widget_socket_url: str | None
    quick_exit_url: str
    cors_origins: tuple[str, ...]
    rate_limit_sender_per_min: float
    rate_limit_ip_per_min: float
    console_host: str
    console_port: int
    console_secure_cookies: bool
    console_low_confidence: float
    console_sync_seconds: float
    topology_dir: Path


def _text(env: Mapping[str, str], name: str, default: str) -> str:
    value = env.get(name, "").strip()
    return value or default


def _int(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = _text(env, name, str(default))
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r}: expected a whole number") from None
    if not low <= value <= high:
        raise SettingsError(f"{name}={value}: expected {low}..{high}")
    return value


def _float(env: Mapping[str, str], name: str, default: float, high: float) -> float:
    raw = _text(env, name, str(default))
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r}: expected a number") from None
    if not 0 <= value <= high:
        raise SettingsError(f"{name}={value}: expected 0..{high}")
    return value


def _flag(env: Mapping[str, str], name: str) -> bool:
    raw = _text(env, name, "0")
    if raw not in ("0", "1"):
        raise SettingsError(f"{name}={raw!r}: expected 0 or 1")
    return raw == "1"


def _url(env: Mapping[str, str], name: str, default: str | None) -> str | None:
    raw = _text(env, name, default or "")
    if not raw:
        return None
    if not re.match(r"^[a-z][a-z0-9+.-]*://\S+$", raw):
        raise SettingsError(f"{name}={raw!r}: expected a URL such as http://host:port")
    return raw


def _exit_url(env: Mapping[str, str]) -> str:
    raw = _text(env, "QUICK_EXIT_URL", "https://www.google.com/")
    if not re.match(r"^(https?://|/)\S*$", raw):
        raise SettingsError(f"QUICK_EXIT_URL={raw!r}: expected https://… or a /path")
    return raw


def _urls(env: Mapping[str, str], host: str, port: int) -> tuple[str, ...]:
    """RASA_API_URLS: the Rasa instances a new model is loaded into.

    Space separated; by default the one of RASA_HOST and RASA_PORT.
    """
    raw = env.get("RASA_API_URLS", "").split()
    for url in raw:
        if not re.match(r"^https?://\S+$", url):
            raise SettingsError(f"RASA_API_URLS: {url!r} is not an http(s) URL")
    return tuple(u.rstrip("/") for u in raw) or (f"http://{host}:{port}",)


def _port(env: Mapping[str, str], name: str, default: int) -> int:
    return _int(env, name, default, 1, 65535)


def from_env(env: Mapping[str, str]) -> Settings:
    """The settings in `env`, with defaults, validated."""
    var_dir = Path(_text(env, "VAR_DIR", str(ROOT / "var")))
    rasa_host = _text(env, "RASA_HOST", "127.0.0.1")
    rasa_port = _port(env, "RASA_PORT", 5005)
    widget_port = _port(env, "WIDGET_PORT", 8080)
    # Unset, empty or "*": no origin check (Rasa's behaviour); scripts/env.sh sets the
    # widget page's origins for `make run`.
    origins = [
        o.rstrip("/") for o in re.split(r"[\s,]+", env.get("CORS_ORIGIN", "")) if o
    ]
    return Settings(
        var_dir=var_dir,
        tracker_url=_url(env, "TRACKER_URL", f"sqlite:///{var_dir / 'rasa.db'}") or "",
        contacts_file=Path(
            _text(env, "CONTACTS_FILE", str(ROOT / "knowledge" / "contacts.yml"))
        ),
        domain_file=Path(_text(env, "DOMAIN_FILE", str(ROOT / "domain.yml"))),
        retention_days=_int(env, "RETENTION_DAYS", 30, 1, 3650),
        rasa_host=rasa_host,
        rasa_port=rasa_port,
        rasa_enable_api=_flag(env, "RASA_ENABLE_API"),
        # The console reaches Rasa's HTTP API here, on a private interface, with the
        # token (live operator conversations, docs/console.md).
        rasa_api_url=_url(env, "RASA_API_URL", None)
        or f"http://{rasa_host}:{rasa_port}",
        rasa_api_token=_text(env, "RASA_API_TOKEN", ""),
        # Redis for socket.io messages between Rasa instances (the topology); unset:
        # one instance delivers to its own sockets.
        socketio_redis_url=_url(env, "SOCKETIO_REDIS_URL", None),
        takeover_gone_seconds=_float(env, "TAKEOVER_GONE_SECONDS", 30, 3600),
        takeover_idle_seconds=_float(env, "TAKEOVER_IDLE_SECONDS", 600, 86400),
        rasa_api_urls=_urls(env, rasa_host, rasa_port),
        models_keep=_int(env, "MODELS_KEEP", 3, 1, 100),
        live_model=Path(
            _text(env, "LIVE_MODEL", str(ROOT / "models" / "iom.tar.gz"))
        ).resolve(),
        gate_min_safety_recall=_float(env, "GATE_MIN_SAFETY_RECALL", 0.98, 1),
        gate_max_safety_drop=_float(env, "GATE_MAX_SAFETY_DROP", 0.0, 1),
        gate_max_f1_drop=_float(env, "GATE_MAX_F1_DROP", 0.01, 1),
        gate_safety_alpha=_float(env, "GATE_SAFETY_ALPHA", 0.05, 1),
        # The learning loop's candidate: fine-tuned from the live model for this
        # fraction of config.yml's epochs, or 0 for a full training (docs/nlu.md).
        retrain_finetune=_float(env, "RETRAIN_FINETUNE", 0.0, 1),
        states_cache_size=_int(env, "STATES_CACHE_SIZE", 256, 0, 100_000),
        candidates_dir=Path(
            _text(env, "CANDIDATES_DIR", str(ROOT / "models" / "candidates"))
        ).resolve(),
        action_host=_text(env, "ACTION_HOST", "127.0.0.1"),
        action_port=_port(env, "ACTION_PORT", 5055),
        widget_host=_text(env, "WIDGET_HOST", "127.0.0.1"),
        widget_port=widget_port,
        widget_socket_url=_url(env, "WIDGET_SOCKET_URL", None),
        quick_exit_url=_exit_url(env),
        cors_origins=() if "*" in origins else tuple(origins),
        rate_limit_sender_per_min=_float(env, "RATE_LIMIT_SENDER_PER_MIN", 20, 1e6),
        rate_limit_ip_per_min=_float(env, "RATE_LIMIT_IP_PER_MIN", 300, 1e6),
        console_host=_text(env, "CONSOLE_HOST", "127.0.0.1"),
        console_port=_port(env, "CONSOLE_PORT", 8081),
        console_secure_cookies=_flag(env, "CONSOLE_SECURE_COOKIES"),
        console_low_confidence=_float(env, "CONSOLE_LOW_CONFIDENCE", 0.6, 1),
        console_sync_seconds=_float(env, "CONSOLE_SYNC_SECONDS", 5, 86400),
        topology_dir=Path(_text(env, "TOPOLOGY_DIR", str(var_dir / "topology"))),
    )


def current() -> Settings:
    """The settings in os.environ now (microseconds; tests change the environment)."""
    return from_env(os.environ)
