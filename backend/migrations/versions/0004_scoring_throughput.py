"""scoring throughput: an unscored-check-in queue table instead of scored_at, lighter fraud_predictions

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 10:00:00

- ``unscored_attendance`` (event id, tenant, received_at): the check-ins/outs not scored yet,
  filled by a trigger on ``attendance_events`` (one INSERT ... SELECT from the transition
  table per statement on PostgreSQL, a row trigger on SQLite), emptied by scoring in the
  transaction that writes the predictions. It replaces ``attendance_events.scored_at`` and
  its partial index: scoring no longer updates the events table (~28 µs a row, plus the
  dead tuples for vacuum), and the prediction's ``created_at`` says when an event was scored.
  Existing unscored events are copied in.
- ``fraud_predictions`` loses its tenant/person/site foreign keys (the event's key cascades
  already) and the (tenant, site, ts) index nothing reads.

SQLite: ``scored_at`` is dropped with ``ALTER TABLE ... DROP COLUMN`` (SQLite ≥ 3.35), not a
batch copy: dropping the copied-from events table with foreign keys on would cascade-delete
its predictions, and would drop the trigger with it.
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

import backend.models.base

revision: str = "0004"
down_revision: Union[str, None] = "0003"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_UNSCORED = sa.text("scored_at IS NULL")
_QUEUE_COLUMNS = "attendance_event_id, tenant_id, received_at"

_PG_TRIGGER = [
    f"""CREATE FUNCTION noc_queue_unscored_attendance() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO unscored_attendance ({_QUEUE_COLUMNS}) SELECT id, tenant_id, received_at FROM inserted;
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER trg_attendance_events_unscored AFTER INSERT ON attendance_events
    REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION noc_queue_unscored_attendance()""",
]
_SQLITE_TRIGGER = [
    f"""CREATE TRIGGER trg_attendance_events_unscored AFTER INSERT ON attendance_events
    BEGIN
        INSERT INTO unscored_attendance ({_QUEUE_COLUMNS}) VALUES (NEW.id, NEW.tenant_id, NEW.received_at);
    END""",
]
_FKS = (("tenant_id", "tenants"), ("person_id", "persons"), ("site_id", "sites"))


def _postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    op.create_table(
        "unscored_attendance",
        sa.Column("attendance_event_id", _BIG_ID, autoincrement=False, nullable=False),
        sa.Column("tenant_id", _BIG_ID, nullable=False),
        sa.Column("received_at", backend.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("attendance_event_id", name=op.f("pk_unscored_attendance")))
    with op.batch_alter_table("unscored_attendance", schema=None) as batch_op:
        batch_op.create_index("ix_unscored_attendance_tenant_received", ["tenant_id", "received_at"], unique=False)
    op.execute(f"INSERT INTO unscored_attendance ({_QUEUE_COLUMNS}) "
               "SELECT id, tenant_id, received_at FROM attendance_events WHERE scored_at IS NULL")
    for statement in _PG_TRIGGER if _postgresql() else _SQLITE_TRIGGER:
        op.execute(statement)

    with op.batch_alter_table("attendance_events", schema=None) as batch_op:
        batch_op.drop_index("ix_attendance_events_unscored", postgresql_where=_UNSCORED, sqlite_where=_UNSCORED)
    if _postgresql():
        op.drop_column("attendance_events", "scored_at")
    else:
        op.execute("ALTER TABLE attendance_events DROP COLUMN scored_at")

    with op.batch_alter_table("fraud_predictions", schema=None) as batch_op:
        batch_op.drop_index("ix_fraud_predictions_tenant_site_ts")
        for column, table in _FKS:
            batch_op.drop_constraint(op.f(f"fk_fraud_predictions_{column}_{table}"), type_="foreignkey")
    _restore_score_index()


def downgrade() -> None:
    with op.batch_alter_table("fraud_predictions", schema=None) as batch_op:
        for column, table in _FKS:
            batch_op.create_foreign_key(op.f(f"fk_fraud_predictions_{column}_{table}"), table, [column], ["id"],
                                        ondelete="CASCADE")
        batch_op.create_index("ix_fraud_predictions_tenant_site_ts", ["tenant_id", "site_id", "ts"], unique=False)
    _restore_score_index()

    # Not in the queue means scored: stamped when its prediction was written.
    op.add_column("attendance_events",
                  sa.Column("scored_at", backend.models.base.UTCDateTime(timezone=True), nullable=True))
    op.execute("""UPDATE attendance_events SET scored_at = COALESCE(
                      (SELECT p.created_at FROM fraud_predictions p WHERE p.attendance_event_id = attendance_events.id),
                      received_at)
                  WHERE id NOT IN (SELECT attendance_event_id FROM unscored_attendance)""")
    with op.batch_alter_table("attendance_events", schema=None) as batch_op:
        batch_op.create_index("ix_attendance_events_unscored", ["tenant_id", "received_at"], unique=False,
                              postgresql_where=_UNSCORED, sqlite_where=_UNSCORED)

    op.execute("DROP TRIGGER trg_attendance_events_unscored" + (" ON attendance_events" if _postgresql() else ""))
    if _postgresql():
        op.execute("DROP FUNCTION noc_queue_unscored_attendance()")
    with op.batch_alter_table("unscored_attendance", schema=None) as batch_op:
        batch_op.drop_index("ix_unscored_attendance_tenant_received")
    op.drop_table("unscored_attendance")


def _restore_score_index() -> None:
    """SQLite's batch copy of fraud_predictions re-creates its indexes from reflection, which
    loses the DESC of the score index: put it back as 0001 made it."""
    if not _postgresql():
        op.drop_index("ix_fraud_predictions_tenant_score", table_name="fraud_predictions")
        op.create_index("ix_fraud_predictions_tenant_score", "fraud_predictions", ["tenant_id", sa.text("score DESC")])
