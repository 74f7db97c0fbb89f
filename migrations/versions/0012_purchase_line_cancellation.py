"""purchase order lines: cancelled quantity (cancelPurchaseOrder)

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30 00:15:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('purchase_order_lines', sa.Column(
        'cancelled_quantity', sa.Numeric(precision=20, scale=6), server_default=sa.text('0'), nullable=False))
    # orders cancelled before this revision: what was not received was cancelled
    op.execute(
        "UPDATE purchase_order_lines l SET cancelled_quantity = l.quantity - l.received_quantity "
        "FROM purchase_orders p WHERE p.id = l.order_id AND p.status IN ('CANCELLED', 'RECEIVED')"
    )
    op.create_check_constraint(
        op.f('ck_purchase_order_lines_cancelled_within_quantity'), 'purchase_order_lines',
        'cancelled_quantity >= 0 AND received_quantity + cancelled_quantity <= quantity',
    )


def downgrade() -> None:
    op.drop_constraint(op.f('ck_purchase_order_lines_cancelled_within_quantity'), 'purchase_order_lines',
                       type_='check')
    op.drop_column('purchase_order_lines', 'cancelled_quantity')
