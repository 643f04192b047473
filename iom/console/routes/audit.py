"""The audit log (admins only)."""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from iom.console import queries
from iom.console.deps import Admin, Db
from iom.console.templating import render

router = APIRouter(tags=["audit"])


@router.get("/audit", response_class=HTMLResponse)
def audit_log(request: Request, user: Admin, engine: Db) -> Response:
    """The newest 500 entries."""
    rows = queries.audit_entries(engine)
    return render(request, "audit.html", user=user, rows=rows)
