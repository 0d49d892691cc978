"""site audits: site-level baseline uniqueness, audit read indexes

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 10:00:00

- ``uq_baseline_profiles_site_level``: the (tenant, site, person, metric, hour) constraint
  treats NULL persons as distinct, so site-level profiles get a partial unique index of their
  own (the audit upserts them ON CONFLICT on it).
- ``ix_audit_findings_tenant_window_end``, ``ix_incidents_tenant_window_end``: audits read
  findings and incidents by the time they are about (correlation, flagged windows).
- ``ix_shifts_tenant_starts``: every audit cycle reads all the tenant's shifts around now.
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: Union[str, None] = "0002"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

_SITE_LEVEL = sa.text("person_id IS NULL")


def upgrade() -> None:
    with op.batch_alter_table("baseline_profiles", schema=None) as batch_op:
        batch_op.create_index("uq_baseline_profiles_site_level", ["tenant_id", "site_id", "metric", "hour_of_week"],
                              unique=True, postgresql_where=_SITE_LEVEL, sqlite_where=_SITE_LEVEL)
    with op.batch_alter_table("audit_findings", schema=None) as batch_op:
        batch_op.create_index("ix_audit_findings_tenant_window_end", ["tenant_id", "window_end"], unique=False)
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.create_index("ix_incidents_tenant_window_end", ["tenant_id", "window_end"], unique=False)
    with op.batch_alter_table("shifts", schema=None) as batch_op:
        batch_op.create_index("ix_shifts_tenant_starts", ["tenant_id", "starts_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("shifts", schema=None) as batch_op:
        batch_op.drop_index("ix_shifts_tenant_starts")
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.drop_index("ix_incidents_tenant_window_end")
    with op.batch_alter_table("audit_findings", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_findings_tenant_window_end")
    with op.batch_alter_table("baseline_profiles", schema=None) as batch_op:
        batch_op.drop_index("uq_baseline_profiles_site_level")
