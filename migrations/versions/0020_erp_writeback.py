"""erp writeback: external_refs learn which rows the writeback owns and when each is due

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-30 06:00:00

``writeback`` marks the refs of the ERP writeback (``domain.integration.erp.sync``): one
per (system, record), kept apart from the keys partners push in (the partner fence reads
only those). ``sync_seq`` numbers each scheduling of a writeback row (a job carries the
number it was queued for; a stale job changes nothing), ``next_attempt_at`` says when
the row is due (the sweeper re-queues rows overdue by more than a grace period), and
``last_event_id`` the event that last asked for it (a relay replay asks for nothing new).
Existing rows are partner keys: ``writeback`` false, nothing to backfill.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('external_refs', sa.Column('writeback', sa.Boolean(), server_default=sa.text('false'),
                                             nullable=False))
    op.add_column('external_refs', sa.Column('sync_seq', sa.BigInteger(), server_default=sa.text('0'),
                                             nullable=False))
    op.add_column('external_refs', sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('external_refs', sa.Column('last_event_id', sa.BigInteger(), nullable=True))
    op.add_column('external_refs', sa.Column('created_at', sa.DateTime(timezone=True),
                                             server_default=sa.text('now()'), nullable=False))
    op.create_index('uq_external_refs_writeback', 'external_refs', ['system', 'entity_type', 'entity_id'],
                    unique=True, postgresql_where=sa.text('writeback'))
    # the sweeper's scan: pending writebacks by due time
    op.create_index('ix_external_refs_due', 'external_refs', ['next_attempt_at'],
                    postgresql_where=sa.text("writeback AND status = 'PENDING'"))


def downgrade() -> None:
    op.drop_index('ix_external_refs_due', table_name='external_refs')
    op.drop_index('uq_external_refs_writeback', table_name='external_refs')
    op.execute("DELETE FROM external_refs WHERE writeback")
    for column in ('created_at', 'last_event_id', 'next_attempt_at', 'sync_seq', 'writeback'):
        op.drop_column('external_refs', column)
