"""fraud scoring: covering person index on location pings, one active model per tenant

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 10:00:00

- ``ix_location_pings_tenant_person_ts`` carries (lat, lon) on PostgreSQL (INCLUDE): the
  scoring features read a person's fixes by time from the index alone. SQLite keeps the plain
  index (no INCLUDE; its rowid lookups are cheap in-process).
- ``uq_model_versions_active``: a partial unique index, at most one active model per tenant.
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: Union[str, None] = "0001"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

_ACTIVE = sa.text("status = 'active'")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_location_pings_tenant_person_ts", table_name="location_pings")
        op.create_index("ix_location_pings_tenant_person_ts", "location_pings", ["tenant_id", "person_id", "ts"],
                        postgresql_include=["lat", "lon"])
    with op.batch_alter_table("model_versions", schema=None) as batch_op:
        batch_op.create_index("uq_model_versions_active", ["tenant_id"], unique=True,
                              postgresql_where=_ACTIVE, sqlite_where=_ACTIVE)


def downgrade() -> None:
    with op.batch_alter_table("model_versions", schema=None) as batch_op:
        batch_op.drop_index("uq_model_versions_active")
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_location_pings_tenant_person_ts", table_name="location_pings")
        op.create_index("ix_location_pings_tenant_person_ts", "location_pings", ["tenant_id", "person_id", "ts"])
