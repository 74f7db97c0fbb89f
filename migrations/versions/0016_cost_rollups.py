"""cost roll-ups: the last BOM cost roll-up's unit cost per item

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-30 03:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('cost_rollups',
    sa.Column('item_id', sa.BigInteger(), nullable=False),
    sa.Column('unit_cost', sa.Numeric(precision=32, scale=10), nullable=False),
    sa.Column('job_id', sa.BigInteger(), nullable=False),
    sa.Column('computed_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_cost_rollups_item_id_items'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('item_id', name=op.f('pk_cost_rollups'))
    )


def downgrade() -> None:
    op.drop_table('cost_rollups')
