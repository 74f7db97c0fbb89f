"""partner tokens bound to one integration; credit limit history

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30 00:50:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('api_tokens', sa.Column('partner', sa.String(length=40), nullable=True))
    # partner tokens issued before this revision: bound to an integration named after the
    # token (letters, digits, '.', '_', '-'), so they keep working, fenced, until replaced
    op.execute(
        "UPDATE api_tokens SET partner = left(coalesce(nullif(regexp_replace("
        "regexp_replace(name, '[^A-Za-z0-9._-]+', '-', 'g'), '^[^A-Za-z0-9]+', ''), ''), 'partner'), 40) "
        "WHERE role = 'partner'"
    )
    op.create_check_constraint(
        op.f('ck_api_tokens_partner_bound'), 'api_tokens',
        "(partner IS NOT NULL) = (role IN ('partner'))",
    )
    # the partner fence reads a system's customers on every fenced statement
    op.create_index('ix_external_refs_system', 'external_refs', ['system', 'entity_type', 'entity_id'],
                    unique=False)
    op.create_table('credit_limit_changes',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('customer_id', sa.BigInteger(), nullable=False),
    sa.Column('previous_limit', sa.Numeric(precision=18, scale=2), nullable=True),
    sa.Column('new_limit', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('changed_by', sa.String(length=120), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'],
                            name=op.f('fk_credit_limit_changes_customer_id_customers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_limit_changes'))
    )
    op.create_index('ix_credit_limit_changes_customer', 'credit_limit_changes', ['customer_id', 'id'],
                    unique=False)
    # the limits customers have today: where their history starts
    op.execute(
        "INSERT INTO credit_limit_changes (customer_id, previous_limit, new_limit, changed_by, changed_at) "
        "SELECT id, NULL, credit_limit, 'migration', updated_at FROM customers WHERE credit_limit <> 0"
    )


def downgrade() -> None:
    op.drop_index('ix_credit_limit_changes_customer', table_name='credit_limit_changes')
    op.drop_table('credit_limit_changes')
    op.drop_index('ix_external_refs_system', table_name='external_refs')
    op.drop_constraint(op.f('ck_api_tokens_partner_bound'), 'api_tokens', type_='check')
    op.drop_column('api_tokens', 'partner')
