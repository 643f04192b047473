"""Fill in deploy/nginx.conf.template (used by scripts/topology.sh and for compose).

    python -m iom.tools.render_nginx OUT --state DIR --host H --port P --rate N \
        --upstream 127.0.0.1:5011 --upstream 127.0.0.1:5012

`--rate 0` switches the per-IP limit off (benchmarks).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from iom.core.settings import ROOT

TEMPLATE = ROOT / "deploy" / "nginx.conf.template"


def render(state: str, host: str, port: int, rate: int, upstreams: list[str]) -> str:
    """The nginx configuration for these values."""
    limit = "limit_req zone=perip burst=50 nodelay;"
    if rate == 0:
        limit, rate = "# per-IP limit off (rate 0)", 60
    values = {
        "STATE": state,
        "HOST": host,
        "PORT": str(port),
        "RATE": str(rate),
        "LIMIT": limit,
        "UPSTREAMS": "\n".join(f"        server {u};" for u in upstreams),
    }
    text = TEMPLATE.read_text(encoding="utf-8")
    for key, value in values.items():
        text = text.replace(f"@{key}@", value)
    return text


def main() -> None:
    """Command line: write the rendered configuration to OUT."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("--state", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--rate", type=int, default=300)
    parser.add_argument("--upstream", action="append", required=True)
    args = parser.parse_args()
    text = render(args.state, args.host, args.port, args.rate, args.upstream)
    Path(args.out).write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
