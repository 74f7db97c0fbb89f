"""credit notes: invoices.credited_amount and the credit_notes table

Existing invoices have credited nothing (0), so their balance and status stay as
they are: balance = total - paid_amount - credited_amount.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 00:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(sa.schema.CreateSequence(sa.Sequence('credit_note_number_seq')))
    op.add_column('invoices', sa.Column(
        'credited_amount', sa.Numeric(precision=18, scale=2), server_default=sa.text('0'), nullable=False))
    op.create_check_constraint(
        op.f('ck_invoices_credited_within_total'), 'invoices',
        'credited_amount >= 0 AND paid_amount + credited_amount <= total',
    )
    op.create_table('credit_notes',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('number', sa.String(length=20), nullable=False),
    sa.Column('invoice_id', sa.BigInteger(), nullable=False),
    sa.Column('customer_id', sa.BigInteger(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('created_by', sa.String(length=120), nullable=True),
    sa.CheckConstraint('amount > 0', name=op.f('ck_credit_notes_amount_positive')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_credit_notes_customer_id_customers')),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoices.id'], name=op.f('fk_credit_notes_invoice_id_invoices')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_notes')),
    sa.UniqueConstraint('number', name=op.f('uq_credit_notes_number'))
    )
    op.create_index(op.f('ix_credit_notes_customer_id'), 'credit_notes', ['customer_id'], unique=False)
    op.create_index(op.f('ix_credit_notes_invoice_id'), 'credit_notes', ['invoice_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_credit_notes_invoice_id'), table_name='credit_notes')
    op.drop_index(op.f('ix_credit_notes_customer_id'), table_name='credit_notes')
    op.drop_table('credit_notes')
    op.drop_constraint(op.f('ck_invoices_credited_within_total'), 'invoices', type_='check')
    op.drop_column('invoices', 'credited_amount')
    op.execute(sa.schema.DropSequence(sa.Sequence('credit_note_number_seq')))
