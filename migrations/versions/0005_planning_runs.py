"""planning runs

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 17:25:09.559086
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


class XID8(sa.types.UserDefinedType):
    cache_ok = True

    def get_col_spec(self, **kw):
        return "xid8"


def upgrade() -> None:
    op.create_table('jobs',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('status', sa.String(length=20), server_default=sa.text("'QUEUED'"), nullable=False),
    sa.Column('progress', sa.Float(), server_default=sa.text('0'), nullable=False),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('params', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
    sa.Column('attempts', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('created_by', sa.String(length=120), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED')", name=op.f('ck_jobs_status_known')),
    sa.CheckConstraint('progress >= 0 AND progress <= 1', name=op.f('ck_jobs_progress_range')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_jobs'))
    )
    op.create_index('uq_jobs_one_active_exclusive', 'jobs', ['kind'], unique=True, postgresql_where=sa.text("status IN ('QUEUED', 'RUNNING') AND kind IN ('MRP')"))
    op.create_table('mrp_runs',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('job_id', sa.BigInteger(), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('horizon_days', sa.Integer(), nullable=False),
    sa.Column('forecast_min_probability', sa.Integer(), nullable=True),
    sa.Column('items_planned', sa.Integer(), server_default='0', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('forecast_min_probability BETWEEN 0 AND 100', name=op.f('ck_mrp_runs_forecast_probability_range')),
    sa.CheckConstraint('horizon_days > 0', name=op.f('ck_mrp_runs_horizon_positive')),
    sa.ForeignKeyConstraint(['job_id'], ['jobs.id'], name=op.f('fk_mrp_runs_job_id_jobs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mrp_runs')),
    sa.UniqueConstraint('job_id', name=op.f('uq_mrp_runs_job_id'))
    )
    op.create_table('planning_messages',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('run_id', sa.BigInteger(), nullable=False),
    sa.Column('item_id', sa.BigInteger(), nullable=True),
    sa.Column('severity', sa.String(length=10), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.CheckConstraint("severity IN ('INFO', 'WARNING', 'ERROR')", name=op.f('ck_planning_messages_severity_known')),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_planning_messages_item_id_items'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['run_id'], ['mrp_runs.id'], name=op.f('fk_planning_messages_run_id_mrp_runs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_planning_messages'))
    )
    op.create_index(op.f('ix_planning_messages_run_id'), 'planning_messages', ['run_id'], unique=False)
    op.create_table('planned_orders',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('run_id', sa.BigInteger(), nullable=False),
    sa.Column('item_id', sa.BigInteger(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('quantity', sa.Numeric(precision=20, scale=6), nullable=False),
    sa.Column('release_date', sa.Date(), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('purchase_order_line_id', sa.BigInteger(), nullable=True),
    sa.Column('work_order_id', sa.BigInteger(), nullable=True),
    sa.CheckConstraint("kind IN ('PURCHASE', 'PRODUCTION', 'SUBCONTRACT')", name=op.f('ck_planned_orders_kind_known')),
    sa.CheckConstraint("status = 'PLANNED' OR purchase_order_line_id IS NOT NULL OR work_order_id IS NOT NULL", name=op.f('ck_planned_orders_firmed_has_document')),
    sa.CheckConstraint("status IN ('PLANNED', 'FIRMED')", name=op.f('ck_planned_orders_status_known')),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_planned_orders_quantity_positive')),
    sa.CheckConstraint('release_date <= due_date', name=op.f('ck_planned_orders_release_before_due')),
    sa.ForeignKeyConstraint(['purchase_order_line_id'], ['purchase_order_lines.id'], name=op.f('fk_planned_orders_purchase_order_line_id_purchase_order_lines')),
    sa.ForeignKeyConstraint(['work_order_id'], ['work_orders.id'], name=op.f('fk_planned_orders_work_order_id_work_orders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_planned_orders'))
    )
    op.create_index('ix_planned_orders_item', 'planned_orders', ['item_id', 'run_id'], unique=False)
    op.create_index('ix_planned_orders_run', 'planned_orders', ['run_id', 'id'], unique=False)
    op.create_table('peggings',
    sa.Column('planned_order_id', sa.BigInteger(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('quantity', sa.Numeric(precision=20, scale=6), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('sales_order_id', sa.BigInteger(), nullable=True),
    sa.Column('opportunity_id', sa.BigInteger(), nullable=True),
    sa.Column('work_order_id', sa.BigInteger(), nullable=True),
    sa.Column('parent_planned_order_id', sa.BigInteger(), nullable=True),
    sa.CheckConstraint("source IN ('SALES_ORDER', 'FORECAST', 'SAFETY_STOCK', 'DEPENDENT')", name=op.f('ck_peggings_source_known')),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_peggings_quantity_positive')),
    sa.PrimaryKeyConstraint('planned_order_id', 'position', name=op.f('pk_peggings'))
    )
    op.create_index('ix_peggings_parent', 'peggings', ['parent_planned_order_id'], unique=False, postgresql_where='parent_planned_order_id IS NOT NULL')
    op.add_column('items', sa.Column('default_supplier', sa.String(length=200), nullable=True))
    op.create_table('eventless_transactions',
    sa.Column('txid', XID8(), nullable=False),
    sa.Column('registered_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('txid', name=op.f('pk_eventless_transactions'))
    )


def downgrade() -> None:
    op.drop_table('eventless_transactions')
    op.drop_column('items', 'default_supplier')
    op.drop_index('ix_peggings_parent', table_name='peggings', postgresql_where='parent_planned_order_id IS NOT NULL')
    op.drop_table('peggings')
    op.drop_index('ix_planned_orders_run', table_name='planned_orders')
    op.drop_index('ix_planned_orders_item', table_name='planned_orders')
    op.drop_table('planned_orders')
    op.drop_index(op.f('ix_planning_messages_run_id'), table_name='planning_messages')
    op.drop_table('planning_messages')
    op.drop_table('mrp_runs')
    op.drop_index('uq_jobs_one_active_exclusive', table_name='jobs', postgresql_where=sa.text("status IN ('QUEUED', 'RUNNING') AND kind IN ('MRP')"))
    op.drop_table('jobs')
