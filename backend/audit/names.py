"""Display names for finding summaries: sites from the reference data, persons loaded once
per cycle for the persons findings may be about."""
from __future__ import annotations

from dataclasses import dataclass, field

from backend.audit.reference import Reference
from backend.audit.window import local_time


@dataclass
class Names:
    reference: Reference
    persons: dict[int, str] = field(default_factory=dict)

    def site(self, site_id: int) -> str:
        return self.reference.site_name(site_id)

    def person(self, person_id: int | None) -> str:
        if person_id is None or person_id < 0:
            return "unassigned"
        return self.persons.get(person_id, f"person {person_id}")

    def local(self, site_id: int, t: float) -> str:
        site = self.reference.sites.get(site_id)
        return local_time(t, site.timezone if site else "UTC")

    def site_names(self) -> dict[int, str]:
        return {site_id: site.name for site_id, site in self.reference.sites.items()}
