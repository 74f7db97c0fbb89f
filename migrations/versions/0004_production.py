"""production

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 16:50:08.711430
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

SEQUENCES = ("work_order_number_seq",)


def upgrade() -> None:
    for name in SEQUENCES:
        op.execute(sa.schema.CreateSequence(sa.Sequence(name)))
    op.create_table('work_orders',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('number', sa.String(length=20), nullable=False),
    sa.Column('item_id', sa.BigInteger(), nullable=False),
    sa.Column('quantity', sa.Numeric(precision=20, scale=6), nullable=False),
    sa.Column('completed_quantity', sa.Numeric(precision=20, scale=6), server_default=sa.text('0'), nullable=False),
    sa.Column('status', sa.String(length=20), server_default=sa.text("'PLANNED'"), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=True),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('sales_order_id', sa.BigInteger(), nullable=True),
    sa.Column('labor_hours', sa.Numeric(precision=20, scale=6), server_default=sa.text('0'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("status IN ('PLANNED', 'RELEASED', 'IN_PROGRESS', 'COMPLETED', 'CLOSED', 'CANCELLED')", name=op.f('ck_work_orders_status_known')),
    sa.CheckConstraint('completed_quantity BETWEEN 0 AND quantity', name=op.f('ck_work_orders_completed_within_quantity')),
    sa.CheckConstraint('labor_hours >= 0', name=op.f('ck_work_orders_labor_hours_non_negative')),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_work_orders_quantity_positive')),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_work_orders_item_id_items')),
    sa.ForeignKeyConstraint(['sales_order_id'], ['sales_orders.id'], name=op.f('fk_work_orders_sales_order_id_sales_orders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_work_orders')),
    sa.UniqueConstraint('number', name=op.f('uq_work_orders_number'))
    )
    op.create_index('ix_work_orders_item_due', 'work_orders', ['item_id', 'due_date'], unique=False)
    op.create_index(op.f('ix_work_orders_sales_order_id'), 'work_orders', ['sales_order_id'], unique=False)
    op.create_table('work_order_components',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('work_order_id', sa.BigInteger(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.BigInteger(), nullable=False),
    sa.Column('required_quantity', sa.Numeric(precision=20, scale=6), nullable=False),
    sa.Column('issued_quantity', sa.Numeric(precision=20, scale=6), server_default=sa.text('0'), nullable=False),
    sa.CheckConstraint('issued_quantity BETWEEN 0 AND required_quantity', name=op.f('ck_work_order_components_issued_within_required')),
    sa.CheckConstraint('required_quantity > 0', name=op.f('ck_work_order_components_required_positive')),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_work_order_components_item_id_items')),
    sa.ForeignKeyConstraint(['work_order_id'], ['work_orders.id'], name=op.f('fk_work_order_components_work_order_id_work_orders'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_work_order_components'))
    )
    op.create_index('uq_work_order_components_item', 'work_order_components', ['work_order_id', 'item_id'], unique=True)


def downgrade() -> None:
    op.drop_index('uq_work_order_components_item', table_name='work_order_components')
    op.drop_table('work_order_components')
    op.drop_index(op.f('ix_work_orders_sales_order_id'), table_name='work_orders')
    op.drop_index('ix_work_orders_item_due', table_name='work_orders')
    op.drop_table('work_orders')
    for name in SEQUENCES:
        op.execute(sa.schema.DropSequence(sa.Sequence(name)))
