"""idempotency keys: the stored first answer to a request, per token and Idempotency-Key

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-30 03:00:00

A new table; nothing to backfill.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('idempotency_keys',
    sa.Column('owner', sa.String(length=64), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('attempt', postgresql.UUID(as_uuid=True), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('status_code', sa.SmallInteger(), nullable=True),
    sa.Column('content_type', sa.String(length=200), nullable=True),
    sa.Column('body', sa.LargeBinary(), nullable=True),
    sa.Column('effect_committed', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("state = 'RUNNING' OR status_code IS NOT NULL",
                       name=op.f('ck_idempotency_keys_done_has_answer')),
    sa.CheckConstraint("state IN ('RUNNING', 'DONE')", name=op.f('ck_idempotency_keys_state_known')),
    sa.PrimaryKeyConstraint('owner', 'key', name=op.f('pk_idempotency_keys'))
    )
    # the purge of expired keys scans by age
    op.create_index(op.f('ix_idempotency_keys_created_at'), 'idempotency_keys', ['created_at'])


def downgrade() -> None:
    op.drop_index(op.f('ix_idempotency_keys_created_at'), table_name='idempotency_keys')
    op.drop_table('idempotency_keys')
