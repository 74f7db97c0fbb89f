"""optimistic concurrency: a version on customers, items, BOMs and warehouses; items.active

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 23:55:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

TABLES = ('customers', 'items', 'boms', 'warehouses')


def upgrade() -> None:
    for table in TABLES:
        op.add_column(table, sa.Column('version', sa.Integer(), server_default=sa.text('1'), nullable=False))
    op.add_column('items', sa.Column('active', sa.Boolean(), server_default=sa.true(), nullable=False))


def downgrade() -> None:
    op.drop_column('items', 'active')
    for table in TABLES:
        op.drop_column(table, 'version')
