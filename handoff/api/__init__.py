"""HTTP edge: one blueprint per resource. Handlers own the session (one per
request), call a service, commit, then publish live updates (handoff.live_bus)."""

from handoff.api.auth import bp as auth_bp
from handoff.api.console import bp as console_bp
from handoff.api.contacts import bp as contacts_bp
from handoff.api.docs import bp as docs_bp
from handoff.api.documents import bp as documents_bp
from handoff.api.editor import bp as editor_bp
from handoff.api.form import bp as form_bp
from handoff.api.handoffs import bp as handoffs_bp
from handoff.api.health import bp as health_bp
from handoff.api.live import bp as live_bp
from handoff.api.metrics import bp as metrics_bp
from handoff.api.panel import bp as panel_bp
from handoff.api.stats import bp as stats_bp
from handoff.api.tickets import bp as tickets_bp
from handoff.api.verification import bp as verification_bp
from handoff.api.webchat import bp as webchat_bp

__all__ = ["BLUEPRINTS"]

BLUEPRINTS = (
    handoffs_bp,
    auth_bp,
    tickets_bp,
    verification_bp,
    stats_bp,
    live_bp,
    docs_bp,
    console_bp,
    webchat_bp,
    panel_bp,
    health_bp,
    documents_bp,
    contacts_bp,
    form_bp,
    editor_bp,
    metrics_bp,
)
