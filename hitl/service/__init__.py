"""The service layer between the store and the web app / REST API: identity, roles and every user action.

python -c "from hitl.store import open_store; from hitl.service import Service; Service(open_store())"
"""

from hitl.service.access import PAGE_ROLES, RateLimited, pages_for, require
from hitl.service.arena import record_battle
from hitl.service.service import Service
from hitl.service.settings import WebSettings

__all__ = ["PAGE_ROLES", "RateLimited", "Service", "WebSettings", "pages_for", "record_battle", "require"]
