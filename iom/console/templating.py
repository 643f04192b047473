"""The Jinja2 templates and the one way routes render a page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from iom.console import masking
from iom.console.warsaw import local_time

TEMPLATES = Path(__file__).resolve().parent / "templates"


def make_templates() -> Jinja2Templates:
    """The console's templates, with the `local` (Warsaw time) and `mask` filters."""
    templates = Jinja2Templates(directory=str(TEMPLATES))
    templates.env.filters["local"] = local_time
    templates.env.filters["mask"] = masking.mask
    return templates


def render(
    request: Request, name: str, code: int = 200, **context: Any
) -> HTMLResponse:
    """Render template `name` with the app's templates (set up by `create_app`)."""
    templates: Jinja2Templates = request.app.state.templates
    return templates.TemplateResponse(request, name, context, status_code=code)
