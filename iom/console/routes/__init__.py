"""The console's pages, one `APIRouter` per area (included by `app.create_app`)."""

from iom.console.routes import (
    audit,
    conversations,
    corrections,
    dashboard,
    directory,
    handoffs,
    users,
)

ROUTERS = (
    users.router,
    conversations.router,
    corrections.router,
    handoffs.router,
    directory.router,
    dashboard.router,
    audit.router,
)
