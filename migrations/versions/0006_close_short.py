"""order lines: cancelled quantity (close-short)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 22:10:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('sales_order_lines', sa.Column(
        'cancelled_quantity', sa.Numeric(precision=20, scale=6), server_default=sa.text('0'), nullable=False))
    op.create_check_constraint(
        op.f('ck_sales_order_lines_cancelled_within_quantity'), 'sales_order_lines',
        'cancelled_quantity >= 0 AND shipped_quantity + cancelled_quantity <= quantity',
    )


def downgrade() -> None:
    op.drop_constraint(op.f('ck_sales_order_lines_cancelled_within_quantity'), 'sales_order_lines', type_='check')
    op.drop_column('sales_order_lines', 'cancelled_quantity')
