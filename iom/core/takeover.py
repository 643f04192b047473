"""Live operator conversations: who holds a chat, who is online, which widgets are open.

Three small tables in the tracker store's database (iom.core.db, migration 0004),
shared by every process: the console writes takeovers and presence, the socket.io
channel of every Rasa instance writes the open widget sockets, the action server reads
presence (is anyone online to answer?) and the channel reads takeovers (a silent turn
is expected while an operator holds the chat). Plain SQLAlchemy Core, times in Unix
seconds, so it runs the same on SQLite and PostgreSQL. docs/console.md describes the
flow.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from iom.core import db

# The name the person sees when the operator gives none (the widget translates it).
TEAM = "IOM"
MAX_NAME = 40
# An operator whose console has not checked in for this long is not online.
ONLINE_SECONDS = 60.0
# Sockets older than this are left over from a crashed instance.
STALE_SOCKET_SECONDS = 24 * 3600.0


@dataclass(frozen=True)
class Takeover:
    """An operator holding a conversation."""

    conversation_id: str
    username: str
    display_name: str
    started_at: float
    seen_at: float
    active_at: float


def shown_name(requested: str | None) -> str:
    """The name the person sees: what the operator typed (a first name), else TEAM.

    Only letters, spaces, hyphens and apostrophes, at most MAX_NAME characters.
    """
    text = " ".join((requested or "").split())[:MAX_NAME]
    if not text or not all(c.isalpha() or c in " -'" for c in text):
        return TEAM
    return text


def _row(row: sa.engine.Row | None) -> Takeover | None:
    return Takeover(**row._mapping) if row is not None else None


def holder(engine: sa.engine.Engine, conversation_id: str) -> Takeover | None:
    """Who holds the conversation now, if anyone."""
    table = db.takeovers
    with engine.connect() as connection:
        row = connection.execute(
            sa.select(table).where(table.c.conversation_id == conversation_id)
        ).first()
    return _row(row)


def held(engine: sa.engine.Engine) -> list[Takeover]:
    """Every conversation held now, oldest first."""
    table = db.takeovers
    with engine.connect() as connection:
        rows = connection.execute(sa.select(table).order_by(table.c.started_at))
        return [Takeover(**row._mapping) for row in rows]


def join(
    engine: sa.engine.Engine,
    conversation_id: str,
    username: str,
    display_name: str,
    now: float,
) -> tuple[bool, Takeover]:
    """Take the conversation: (True, it) or, if someone holds it, (False, theirs).

    The primary key makes this safe when two operators press "join" at once. Joining
    a conversation one already holds is allowed (a second tab) and keeps the row.
    """
    row = Takeover(conversation_id, username, display_name, now, now, now)
    try:
        with engine.begin() as connection:
            connection.execute(db.takeovers.insert().values(**row.__dict__))
        return True, row
    except sa.exc.IntegrityError:
        current = holder(engine, conversation_id)
        if current is None:  # released between the insert and the read
            return join(engine, conversation_id, username, display_name, now)
        return current.username == username, current


def touch(
    engine: sa.engine.Engine,
    conversation_id: str,
    username: str,
    now: float,
    *,
    active: bool = False,
) -> bool:
    """The holder's console is still there (and, if `active`, wrote something)."""
    table = db.takeovers
    values = {"seen_at": now, **({"active_at": now} if active else {})}
    with engine.begin() as connection:
        result = connection.execute(
            table.update()
            .where(table.c.conversation_id == conversation_id)
            .where(table.c.username == username)
            .values(**values)
        )
    return result.rowcount > 0


def release(
    engine: sa.engine.Engine, conversation_id: str, username: str | None = None
) -> Takeover | None:
    """End a takeover (only `username`'s, if given); the row it ended, if any."""
    table = db.takeovers
    with engine.begin() as connection:
        query = sa.select(table).where(table.c.conversation_id == conversation_id)
        if username is not None:
            query = query.where(table.c.username == username)
        row = _row(connection.execute(query).first())
        if row is not None:
            connection.execute(
                table.delete()
                .where(table.c.conversation_id == conversation_id)
                .where(table.c.username == row.username)
            )
    return row


def expired(
    engine: sa.engine.Engine, now: float, gone_after: float, idle_after: float
) -> list[Takeover]:
    """Takeovers whose console went away (`gone_after` s) or idled (`idle_after` s)."""
    table = db.takeovers
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(table).where(
                sa.or_(
                    table.c.seen_at < now - gone_after,
                    table.c.active_at < now - idle_after,
                )
            )
        )
        return [Takeover(**row._mapping) for row in rows]


def present(engine: sa.engine.Engine, username: str, now: float) -> None:
    """Record that `username` has the console open now."""
    table = db.operator_presence
    with engine.begin() as connection:
        updated = connection.execute(
            table.update().where(table.c.username == username).values(seen_at=now)
        ).rowcount
        if not updated:
            try:
                with connection.begin_nested():
                    connection.execute(
                        table.insert().values(username=username, seen_at=now)
                    )
            except sa.exc.IntegrityError:  # inserted by another request meanwhile
                pass


def operators_online(
    engine: sa.engine.Engine, now: float, within: float = ONLINE_SECONDS
) -> int:
    """How many operators had the console open in the last `within` seconds."""
    table = db.operator_presence
    with engine.connect() as connection:
        count = connection.execute(
            sa.select(sa.func.count()).where(table.c.seen_at >= now - within)
        ).scalar_one()
    return int(count)


def socket_opened(
    engine: sa.engine.Engine, sid: str, conversation_id: str, now: float
) -> None:
    """A widget socket joined its conversation's room (socket.io channel)."""
    table = db.widget_sockets
    with engine.begin() as connection:
        connection.execute(table.delete().where(table.c.sid == sid))
        connection.execute(
            table.delete().where(table.c.connected_at < now - STALE_SOCKET_SECONDS)
        )
        connection.execute(
            table.insert().values(
                sid=sid, conversation_id=conversation_id, connected_at=now
            )
        )


def socket_closed(engine: sa.engine.Engine, sid: str) -> None:
    """A widget socket disconnected."""
    table = db.widget_sockets
    with engine.begin() as connection:
        connection.execute(table.delete().where(table.c.sid == sid))


def widget_open(engine: sa.engine.Engine, conversation_id: str) -> bool:
    """Whether the person has the chat open now (a socket in its room)."""
    table = db.widget_sockets
    with engine.connect() as connection:
        row = connection.execute(
            sa.select(table.c.sid).where(table.c.conversation_id == conversation_id)
        ).first()
    return row is not None


def open_widgets(engine: sa.engine.Engine) -> set[str]:
    """Every conversation with its chat window open now."""
    table = db.widget_sockets
    with engine.connect() as connection:
        rows = connection.execute(sa.select(table.c.conversation_id).distinct())
        return {str(row[0]) for row in rows}
