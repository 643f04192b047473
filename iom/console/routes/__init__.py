"""The console's pages, one `APIRouter` per area (included by `app.create_app`)."""

from iom.console.routes import (
    audit,
    conversations,
    corrections,
    dashboard,
    directory,
    handoffs,
    live,
    models,
    users,
)

ROUTERS = (
    users.router,
    conversations.router,
    corrections.router,
    models.router,
    handoffs.router,
    live.router,
    directory.router,
    dashboard.router,
    audit.router,
)
