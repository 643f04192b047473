"""The contact directory: all read it; admins edit an entry or mark it verified."""

from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from iom.console import auth, directory
from iom.console.deps import Admin, AdminForm, Db, Operator
from iom.console.templating import render
from iom.core.contacts import DirectoryError

router = APIRouter(tags=["directory"])
NO_ENTRY = "No such directory entry."


@router.get("/directory", response_class=HTMLResponse)
def directory_page(request: Request, user: Operator) -> Response:
    """Every entry with its sources and dates (or why the file is not valid)."""
    try:
        entries, error = directory.load().contacts, None
    except DirectoryError as exc:
        entries, error = [], str(exc)
    return render(
        request,
        "directory.html",
        user=user,
        entries=entries,
        error=error,
        path=directory.directory_path(),
    )


@router.get("/directory/{entry_id}/edit", response_class=HTMLResponse)
def directory_edit(request: Request, entry_id: str, user: Admin) -> Response:
    """One entry's YAML in a form."""
    try:
        text = directory.entry_yaml(entry_id)
    except KeyError:
        raise HTTPException(404, NO_ENTRY) from None
    return render(
        request,
        "directory_edit.html",
        user=user,
        entry_id=entry_id,
        text=text,
        error=None,
    )


@router.post("/directory/{entry_id}")
def directory_save(
    request: Request,
    entry_id: str,
    user: AdminForm,
    engine: Db,
    text: Annotated[str, Form()] = "",
) -> Response:
    """Replace the entry if the action server's schema accepts the result, else 422."""
    try:
        directory.replace_entry(entry_id, text)
    except KeyError:
        raise HTTPException(404, NO_ENTRY) from None
    except DirectoryError as error:
        return render(
            request,
            "directory_edit.html",
            422,
            user=user,
            entry_id=entry_id,
            text=text,
            error=str(error),
        )
    auth.record(engine, user.username, "directory_edit", entry_id)
    return RedirectResponse(f"/directory#{entry_id}", status_code=303)


@router.post("/directory/{entry_id}/verify")
def directory_verify(
    entry_id: str,
    user: AdminForm,
    engine: Db,
    source_url: Annotated[str, Form()] = "",
) -> Response:
    """Record that the entry was checked today on its official source."""
    if not source_url.startswith(("https://", "http://")):
        raise HTTPException(
            400, "Give the source URL (http or https) where you verified the entry."
        )
    try:
        directory.mark_verified(entry_id, source_url.strip(), user.username)
    except KeyError:
        raise HTTPException(404, NO_ENTRY) from None
    except DirectoryError as error:
        raise HTTPException(422, str(error)) from None
    auth.record(
        engine, user.username, "directory_verify", entry_id, source_url.strip()[:500]
    )
    return RedirectResponse(f"/directory#{entry_id}", status_code=303)
