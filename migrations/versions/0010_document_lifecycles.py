"""document lifecycles: quote and order edits (notes, versions), quote rejection, lead
disqualification reason, activity outcome

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29 23:55:00

Only new columns: today's rows keep their meaning (no notes, no reason, no outcome;
version 1). An activity already done keeps ``done_at`` and has no outcome.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

VERSIONED = ('quotes', 'sales_orders')
TEXTS = (
    ('quotes', 'notes'),
    ('quotes', 'rejection_reason'),
    ('sales_orders', 'notes'),
    ('leads', 'disqualification_reason'),
    ('activities', 'outcome'),
)


def upgrade() -> None:
    for table in VERSIONED:
        op.add_column(table, sa.Column('version', sa.Integer(), server_default=sa.text('1'), nullable=False))
    for table, column in TEXTS:
        op.add_column(table, sa.Column(column, sa.Text(), nullable=True))
    # activities(dueBefore:, done:) in due order (ASC puts nulls last, as the list does)
    op.create_index('ix_activities_due', 'activities', ['due_at', 'id'])


def downgrade() -> None:
    op.drop_index('ix_activities_due', table_name='activities')
    for table, column in reversed(TEXTS):
        op.drop_column(table, column)
    for table in VERSIONED:
        op.drop_column(table, 'version')
