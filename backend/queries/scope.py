"""Site scope: what part of its tenant a principal may read. Every read query applies it."""
from __future__ import annotations

from backend.auth.principal import Principal


def effective_site(principal: Principal, site_id: int | None) -> tuple[bool, int | None]:
    """(allowed, site to filter on) for a requested ``site_id`` (None: every site): a
    site-scoped principal sees its own site only, and asking for another site yields nothing."""
    if principal.site_id is None:
        return True, site_id
    return site_id in (None, principal.site_id), principal.site_id
