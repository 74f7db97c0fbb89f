"""actual work-order costing: costing runs and the cost of each work order

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-30 02:40:00

Nothing to backfill: no work order has been costed before.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

EXACT = sa.Numeric(precision=32, scale=10)
MONEY = sa.Numeric(precision=18, scale=2)


def upgrade() -> None:
    op.create_table('costing_runs',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('job_id', sa.BigInteger(), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('overhead_amount', MONEY, nullable=False),
    sa.Column('allocation_basis', sa.String(length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('work_orders_costed', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.CheckConstraint("allocation_basis IN ('OUTPUT_QUANTITY', 'LABOR_HOURS')",
                       name=op.f('ck_costing_runs_allocation_basis_known')),
    sa.CheckConstraint('overhead_amount >= 0', name=op.f('ck_costing_runs_overhead_non_negative')),
    sa.CheckConstraint('period_start <= period_end', name=op.f('ck_costing_runs_period_ordered')),
    sa.ForeignKeyConstraint(['job_id'], ['jobs.id'], name=op.f('fk_costing_runs_job_id_jobs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_costing_runs')),
    sa.UniqueConstraint('job_id', name=op.f('uq_costing_runs_job_id'))
    )
    op.create_table('work_order_costs',
    sa.Column('work_order_id', sa.BigInteger(), nullable=False),
    sa.Column('costing_run_id', sa.BigInteger(), nullable=False),
    sa.Column('weight', sa.Numeric(precision=20, scale=6), nullable=False),
    sa.Column('material_cost', EXACT, nullable=False),
    sa.Column('overhead_cost', MONEY, nullable=False),
    sa.Column('total_cost', EXACT, nullable=False),
    sa.Column('unit_cost', EXACT, nullable=False),
    sa.Column('variance', EXACT, server_default=sa.text('0'), nullable=False),
    sa.Column('revalued_amount', EXACT, server_default=sa.text('0'), nullable=False),
    sa.Column('computed_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['costing_run_id'], ['costing_runs.id'],
                            name=op.f('fk_work_order_costs_costing_run_id_costing_runs')),
    sa.ForeignKeyConstraint(['work_order_id'], ['work_orders.id'],
                            name=op.f('fk_work_order_costs_work_order_id_work_orders'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('work_order_id', name=op.f('pk_work_order_costs'))
    )
    op.create_index(op.f('ix_work_order_costs_costing_run_id'), 'work_order_costs', ['costing_run_id'])


def downgrade() -> None:
    op.drop_index(op.f('ix_work_order_costs_costing_run_id'), table_name='work_order_costs')
    op.drop_table('work_order_costs')
    op.drop_table('costing_runs')
