"""Alembic environment for the tables this project owns (console_*, handoffs)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import engine_from_config, pool

from iom.core.db import VERSION_TABLE, metadata

OWNED = {"handoff_requests"}

config = context.config


def include_object(obj, name, type_, reflected, compare_to):  # noqa: ANN001
    """Only the tables this project owns: never touch Rasa's `events`."""
    if type_ == "table":
        return bool(name) and (name.startswith("console_") or name in OWNED)
    return True


def run_migrations_online() -> None:
    """Run migrations against the configured database."""
    connectable = engine_from_config(
        config.get_section(config.config_ini_section) or {},
        prefix="sqlalchemy.",
        poolclass=pool.NullPool,
    )
    with connectable.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            version_table=VERSION_TABLE,
            include_object=include_object,
            render_as_batch=True,
        )
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
