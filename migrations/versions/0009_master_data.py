"""master data: exactly one default warehouse (a partial unique index), transfer references

Existing databases may hold no default warehouse or several; the one that
``default_warehouse_id`` already picked (a default one, else the lowest id) stays the
only default, so stock is drawn as before.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 00:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        UPDATE warehouses w
        SET is_default = (w.id = chosen.id), version = w.version + 1
        FROM (SELECT id FROM warehouses ORDER BY is_default DESC, id LIMIT 1) AS chosen
        WHERE w.is_default IS DISTINCT FROM (w.id = chosen.id)
        """
    )
    op.create_index(
        'one_default_warehouse', 'warehouses', ['is_default'], unique=True,
        postgresql_where=sa.text('is_default'),
    )
    op.execute('CREATE SEQUENCE stock_transfer_ids')


def downgrade() -> None:
    op.execute('DROP SEQUENCE stock_transfer_ids')
    op.drop_index('one_default_warehouse', table_name='warehouses')
