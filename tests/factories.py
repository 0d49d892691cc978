"""Builders of small, real test data (through the same services the product uses)."""
from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass, field

from backend.auth.tokens import create_api_token, create_wallboard_token
from backend.auth.users import create_user
from backend.enums import Role
from backend.models import Checkpoint, Client, Person, Site
from backend.runtime import Runtime
from backend.tenancy import create_tenant

PASSWORD = "correct-horse-battery"
_counter = itertools.count(1)


@dataclass
class World:
    tenant_id: int
    slug: str
    site_ids: dict[str, int]          # code -> id
    person_ids: dict[str, int]
    checkpoint_ids: dict[str, int]
    api_token: str
    wallboard_token: str
    users: dict[Role, str] = field(default_factory=dict)  # role -> e-mail (password: PASSWORD)


def make_world(runtime: Runtime, n_sites: int = 2, n_persons: int = 3) -> World:
    n = next(_counter)
    slug = f"t{n}-{uuid.uuid4().hex[:8]}"
    with runtime.transaction() as session:
        tenant = create_tenant(session, slug, f"Tenant {n}")
        client = Client(tenant_id=tenant.id, code="C1", name=f"Client of {slug}")
        session.add(client)
        session.flush()
        sites = [Site(tenant_id=tenant.id, client_id=client.id, code=f"S{i}", name=f"Site {i} of {slug}",
                      city="Lisbon", timezone="Europe/Lisbon", lat=38.70 + i / 100, lon=-9.14,
                      geofence_radius_m=150.0) for i in range(1, n_sites + 1)]
        session.add_all(sites)
        session.flush()
        persons = [Person(tenant_id=tenant.id, code=f"P{i}", name=f"Guard {i} of {slug}",
                          device_id=f"{slug}-dev-{i}", home_site_id=sites[(i - 1) % n_sites].id)
                   for i in range(1, n_persons + 1)]
        checkpoints = [Checkpoint(tenant_id=tenant.id, site_id=site.id, code=f"{site.code}-CP{j}",
                                  name=f"Checkpoint {j}", lat=site.lat, lon=site.lon)
                       for site in sites for j in (1, 2)]
        session.add_all(persons + checkpoints)
        session.flush()
        users = {}
        for role in Role:
            email = f"{role.value}@{slug}.test"
            create_user(session, tenant.id, email, f"{role.value.title()} {n}", PASSWORD, role)
            users[role] = email
        world = World(tenant_id=tenant.id, slug=slug,
                      site_ids={s.code: s.id for s in sites},
                      person_ids={p.code: p.id for p in persons},
                      checkpoint_ids={c.code: c.id for c in checkpoints},
                      api_token=create_api_token(session, tenant.id, "test"),
                      wallboard_token=create_wallboard_token(session, tenant.id, "wall"),
                      users=users)
    return world
