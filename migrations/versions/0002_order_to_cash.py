"""order to cash

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 15:31:17.456860
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


# Wakes the outbox relay on commit (NOTIFY is delivered only then, and equal
# notifications of one transaction are folded into one) without a round trip.
NOTIFY = [
    """
CREATE FUNCTION domain_events_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('domain_events', '');
    RETURN NULL;
END $$
""",
    """
CREATE TRIGGER domain_events_notify AFTER INSERT ON domain_events
    FOR EACH STATEMENT EXECUTE FUNCTION domain_events_notify()
""",
]

SEQUENCES = ("quote_number_seq", "sales_order_number_seq", "shipment_number_seq", "invoice_number_seq")


def upgrade() -> None:
    for statement in NOTIFY:
        op.execute(statement)
    for name in SEQUENCES:
        op.execute(sa.schema.CreateSequence(sa.Sequence(name)))
    op.create_table('opportunities',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('customer_id', sa.BigInteger(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('stage', sa.String(length=20), server_default=sa.text("'PROSPECTING'"), nullable=False),
    sa.Column('probability', sa.Integer(), server_default=sa.text('10'), nullable=False),
    sa.Column('amount', sa.Numeric(precision=18, scale=2), server_default=sa.text('0'), nullable=False),
    sa.Column('expected_close_date', sa.Date(), nullable=True),
    sa.Column('owner', sa.String(length=120), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("stage IN ('PROSPECTING', 'QUALIFICATION', 'PROPOSAL', 'NEGOTIATION', 'WON', 'LOST')", name=op.f('ck_opportunities_stage_known')),
    sa.CheckConstraint('amount >= 0', name=op.f('ck_opportunities_amount_non_negative')),
    sa.CheckConstraint('probability BETWEEN 0 AND 100', name=op.f('ck_opportunities_probability_range')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_opportunities_customer_id_customers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_opportunities'))
    )
    op.create_index('ix_opportunities_customer', 'opportunities', ['customer_id', 'id'], unique=False)
    op.create_table('payments',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('customer_id', sa.BigInteger(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('received_on', sa.Date(), nullable=False),
    sa.Column('reference', sa.String(length=120), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('amount > 0', name=op.f('ck_payments_amount_positive')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_payments_customer_id_customers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payments'))
    )
    op.create_index(op.f('ix_payments_customer_id'), 'payments', ['customer_id'], unique=False)
    op.create_table('activities',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('opportunity_id', sa.BigInteger(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("kind IN ('CALL', 'EMAIL', 'MEETING', 'NOTE', 'TASK')", name=op.f('ck_activities_kind_known')),
    sa.ForeignKeyConstraint(['opportunity_id'], ['opportunities.id'], name=op.f('fk_activities_opportunity_id_opportunities'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_activities'))
    )
    op.create_index(op.f('ix_activities_opportunity_id'), 'activities', ['opportunity_id'], unique=False)
    op.create_table('leads',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('company', sa.String(length=200), nullable=True),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('phone', sa.String(length=50), nullable=True),
    sa.Column('source', sa.String(length=80), nullable=True),
    sa.Column('owner', sa.String(length=120), nullable=True),
    sa.Column('status', sa.String(length=20), server_default=sa.text("'NEW'"), nullable=False),
    sa.Column('customer_id', sa.BigInteger(), nullable=True),
    sa.Column('opportunity_id', sa.BigInteger(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("status IN ('NEW', 'QUALIFIED', 'DISQUALIFIED', 'CONVERTED')", name=op.f('ck_leads_status_known')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_leads_customer_id_customers')),
    sa.ForeignKeyConstraint(['opportunity_id'], ['opportunities.id'], name=op.f('fk_leads_opportunity_id_opportunities')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_leads'))
    )
    op.create_table('opportunity_lines',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('opportunity_id', sa.BigInteger(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.BigInteger(), nullable=False),
    sa.Column('quantity', sa.Numeric(precision=20, scale=6), nullable=False),
    sa.Column('unit_price', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_opportunity_lines_quantity_positive')),
    sa.CheckConstraint('unit_price >= 0', name=op.f('ck_opportunity_lines_unit_price_non_negative')),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_opportunity_lines_item_id_items')),
    sa.ForeignKeyConstraint(['opportunity_id'], ['opportunities.id'], name=op.f('fk_opportunity_lines_opportunity_id_opportunities'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_opportunity_lines'))
    )
    op.create_index(op.f('ix_opportunity_lines_item_id'), 'opportunity_lines', ['item_id'], unique=False)
    op.create_index(op.f('ix_opportunity_lines_opportunity_id'), 'opportunity_lines', ['opportunity_id'], unique=False)
    op.create_table('opportunity_stage_changes',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('opportunity_id', sa.BigInteger(), nullable=False),
    sa.Column('stage', sa.String(length=20), nullable=False),
    sa.Column('entered_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("stage IN ('PROSPECTING', 'QUALIFICATION', 'PROPOSAL', 'NEGOTIATION', 'WON', 'LOST')", name=op.f('ck_opportunity_stage_changes_stage_known')),
    sa.ForeignKeyConstraint(['opportunity_id'], ['opportunities.id'], name=op.f('fk_opportunity_stage_changes_opportunity_id_opportunities'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_opportunity_stage_changes'))
    )
    op.create_index(op.f('ix_opportunity_stage_changes_opportunity_id'), 'opportunity_stage_changes', ['opportunity_id'], unique=False)
    op.create_table('quotes',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('number', sa.String(length=20), nullable=False),
    sa.Column('customer_id', sa.BigInteger(), nullable=False),
    sa.Column('opportunity_id', sa.BigInteger(), nullable=True),
    sa.Column('status', sa.String(length=20), server_default=sa.text("'DRAFT'"), nullable=False),
    sa.Column('valid_until', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('subtotal', sa.Numeric(precision=18, scale=2), server_default=sa.text('0'), nullable=False),
    sa.Column('tax_total', sa.Numeric(precision=18, scale=2), server_default=sa.text('0'), nullable=False),
    sa.Column('total', sa.Numeric(precision=18, scale=2), server_default=sa.text('0'), nullable=False),
    sa.CheckConstraint("status IN ('DRAFT', 'SENT', 'ACCEPTED', 'REJECTED', 'EXPIRED')", name=op.f('ck_quotes_status_known')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_quotes_customer_id_customers')),
    sa.ForeignKeyConstraint(['opportunity_id'], ['opportunities.id'], name=op.f('fk_quotes_opportunity_id_opportunities')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quotes')),
    sa.UniqueConstraint('number', name=op.f('uq_quotes_number'))
    )
    op.create_index('ix_quotes_customer', 'quotes', ['customer_id', 'id'], unique=False)
    op.create_index(op.f('ix_quotes_opportunity_id'), 'quotes', ['opportunity_id'], unique=False)
    op.create_table('quote_lines',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('quote_id', sa.BigInteger(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.BigInteger(), nullable=False),
    sa.Column('quantity', sa.Numeric(precision=20, scale=6), nullable=False),
    sa.Column('unit_price', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('discount_percent', sa.Numeric(precision=9, scale=4), server_default=sa.text('0'), nullable=False),
    sa.Column('tax_rate', sa.Numeric(precision=9, scale=4), server_default=sa.text('0'), nullable=False),
    sa.Column('line_total', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('tax_amount', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.CheckConstraint('discount_percent BETWEEN 0 AND 100', name=op.f('ck_quote_lines_discount_range')),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_quote_lines_quantity_positive')),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_quote_lines_item_id_items')),
    sa.ForeignKeyConstraint(['quote_id'], ['quotes.id'], name=op.f('fk_quote_lines_quote_id_quotes'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quote_lines'))
    )
    op.create_index(op.f('ix_quote_lines_item_id'), 'quote_lines', ['item_id'], unique=False)
    op.create_index(op.f('ix_quote_lines_quote_id'), 'quote_lines', ['quote_id'], unique=False)
    op.create_table('sales_orders',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('number', sa.String(length=20), nullable=False),
    sa.Column('customer_id', sa.BigInteger(), nullable=False),
    sa.Column('quote_id', sa.BigInteger(), nullable=True),
    sa.Column('status', sa.String(length=20), server_default=sa.text("'DRAFT'"), nullable=False),
    sa.Column('currency', sa.String(length=3), server_default=sa.text("'EUR'"), nullable=False),
    sa.Column('requested_date', sa.Date(), nullable=True),
    sa.Column('promised_date', sa.Date(), nullable=True),
    sa.Column('credit_hold_reason', sa.Text(), nullable=True),
    sa.Column('subtotal', sa.Numeric(precision=18, scale=2), server_default=sa.text('0'), nullable=False),
    sa.Column('tax_total', sa.Numeric(precision=18, scale=2), server_default=sa.text('0'), nullable=False),
    sa.Column('total', sa.Numeric(precision=18, scale=2), server_default=sa.text('0'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("status IN ('DRAFT', 'CREDIT_HOLD', 'CONFIRMED', 'PARTIALLY_SHIPPED', 'SHIPPED', 'CLOSED', 'CANCELLED')", name=op.f('ck_sales_orders_status_known')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_sales_orders_customer_id_customers')),
    sa.ForeignKeyConstraint(['quote_id'], ['quotes.id'], name=op.f('fk_sales_orders_quote_id_quotes')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sales_orders')),
    sa.UniqueConstraint('number', name=op.f('uq_sales_orders_number')),
    sa.UniqueConstraint('quote_id', name=op.f('uq_sales_orders_quote_id'))
    )
    op.create_index('ix_sales_orders_customer', 'sales_orders', ['customer_id', 'id'], unique=False)
    op.create_index('ix_sales_orders_status', 'sales_orders', ['status', 'id'], unique=False)
    op.create_table('invoices',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('number', sa.String(length=20), nullable=False),
    sa.Column('customer_id', sa.BigInteger(), nullable=False),
    sa.Column('order_id', sa.BigInteger(), nullable=True),
    sa.Column('issue_date', sa.Date(), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('total', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('paid_amount', sa.Numeric(precision=18, scale=2), server_default=sa.text('0'), nullable=False),
    sa.Column('status', sa.String(length=20), server_default=sa.text("'OPEN'"), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("status IN ('OPEN', 'PARTIALLY_PAID', 'PAID', 'VOID')", name=op.f('ck_invoices_status_known')),
    sa.CheckConstraint('paid_amount BETWEEN 0 AND total', name=op.f('ck_invoices_paid_within_total')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_invoices_customer_id_customers')),
    sa.ForeignKeyConstraint(['order_id'], ['sales_orders.id'], name=op.f('fk_invoices_order_id_sales_orders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invoices')),
    sa.UniqueConstraint('number', name=op.f('uq_invoices_number'))
    )
    op.create_index('ix_invoices_customer_open', 'invoices', ['customer_id', 'due_date', 'id'], unique=False)
    op.create_index(op.f('ix_invoices_order_id'), 'invoices', ['order_id'], unique=False)
    op.create_table('sales_order_lines',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('order_id', sa.BigInteger(), nullable=False),
    sa.Column('shipped_quantity', sa.Numeric(precision=20, scale=6), server_default=sa.text('0'), nullable=False),
    sa.Column('invoiced_quantity', sa.Numeric(precision=20, scale=6), server_default=sa.text('0'), nullable=False),
    sa.Column('promised_date', sa.Date(), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.BigInteger(), nullable=False),
    sa.Column('quantity', sa.Numeric(precision=20, scale=6), nullable=False),
    sa.Column('unit_price', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('discount_percent', sa.Numeric(precision=9, scale=4), server_default=sa.text('0'), nullable=False),
    sa.Column('tax_rate', sa.Numeric(precision=9, scale=4), server_default=sa.text('0'), nullable=False),
    sa.Column('line_total', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('tax_amount', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.CheckConstraint('discount_percent BETWEEN 0 AND 100', name=op.f('ck_sales_order_lines_discount_range')),
    sa.CheckConstraint('invoiced_quantity BETWEEN 0 AND shipped_quantity', name=op.f('ck_sales_order_lines_invoiced_within_shipped')),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_sales_order_lines_quantity_positive')),
    sa.CheckConstraint('shipped_quantity BETWEEN 0 AND quantity', name=op.f('ck_sales_order_lines_shipped_within_quantity')),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_sales_order_lines_item_id_items')),
    sa.ForeignKeyConstraint(['order_id'], ['sales_orders.id'], name=op.f('fk_sales_order_lines_order_id_sales_orders'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sales_order_lines'))
    )
    op.create_index(op.f('ix_sales_order_lines_item_id'), 'sales_order_lines', ['item_id'], unique=False)
    op.create_index(op.f('ix_sales_order_lines_order_id'), 'sales_order_lines', ['order_id'], unique=False)
    op.create_table('shipments',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('number', sa.String(length=20), nullable=False),
    sa.Column('order_id', sa.BigInteger(), nullable=False),
    sa.Column('shipped_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('carrier', sa.String(length=80), nullable=True),
    sa.Column('tracking_number', sa.String(length=80), nullable=True),
    sa.ForeignKeyConstraint(['order_id'], ['sales_orders.id'], name=op.f('fk_shipments_order_id_sales_orders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shipments')),
    sa.UniqueConstraint('number', name=op.f('uq_shipments_number'))
    )
    op.create_index(op.f('ix_shipments_order_id'), 'shipments', ['order_id'], unique=False)
    op.create_table('invoice_lines',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('invoice_id', sa.BigInteger(), nullable=False),
    sa.Column('order_line_id', sa.BigInteger(), nullable=False),
    sa.Column('quantity', sa.Numeric(precision=20, scale=6), nullable=False),
    sa.Column('line_total', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('tax_amount', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_invoice_lines_quantity_positive')),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoices.id'], name=op.f('fk_invoice_lines_invoice_id_invoices'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['order_line_id'], ['sales_order_lines.id'], name=op.f('fk_invoice_lines_order_line_id_sales_order_lines')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invoice_lines'))
    )
    op.create_index(op.f('ix_invoice_lines_invoice_id'), 'invoice_lines', ['invoice_id'], unique=False)
    op.create_index(op.f('ix_invoice_lines_order_line_id'), 'invoice_lines', ['order_line_id'], unique=False)
    op.create_table('payment_allocations',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('payment_id', sa.BigInteger(), nullable=False),
    sa.Column('invoice_id', sa.BigInteger(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.CheckConstraint('amount > 0', name=op.f('ck_payment_allocations_amount_positive')),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoices.id'], name=op.f('fk_payment_allocations_invoice_id_invoices')),
    sa.ForeignKeyConstraint(['payment_id'], ['payments.id'], name=op.f('fk_payment_allocations_payment_id_payments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_allocations'))
    )
    op.create_index(op.f('ix_payment_allocations_invoice_id'), 'payment_allocations', ['invoice_id'], unique=False)
    op.create_index(op.f('ix_payment_allocations_payment_id'), 'payment_allocations', ['payment_id'], unique=False)
    op.create_table('shipment_lines',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('shipment_id', sa.BigInteger(), nullable=False),
    sa.Column('order_line_id', sa.BigInteger(), nullable=False),
    sa.Column('item_id', sa.BigInteger(), nullable=False),
    sa.Column('quantity', sa.Numeric(precision=20, scale=6), nullable=False),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_shipment_lines_quantity_positive')),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_shipment_lines_item_id_items')),
    sa.ForeignKeyConstraint(['order_line_id'], ['sales_order_lines.id'], name=op.f('fk_shipment_lines_order_line_id_sales_order_lines')),
    sa.ForeignKeyConstraint(['shipment_id'], ['shipments.id'], name=op.f('fk_shipment_lines_shipment_id_shipments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shipment_lines'))
    )
    op.create_index(op.f('ix_shipment_lines_order_line_id'), 'shipment_lines', ['order_line_id'], unique=False)
    op.create_index(op.f('ix_shipment_lines_shipment_id'), 'shipment_lines', ['shipment_id'], unique=False)
    op.create_index('ix_domain_events_entity', 'domain_events', ['entity_type', 'entity_id', 'id'], unique=False)
    op.create_index('ix_domain_events_status_payload', 'domain_events', ['payload'], unique=False,
                    postgresql_using='gin', postgresql_ops={'payload': 'jsonb_path_ops'},
                    postgresql_where=sa.text("type = 'order.status_changed'"))
    op.create_index('ix_stock_moves_reference', 'stock_moves', ['reference_type', 'reference_id'], unique=False)


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS domain_events_notify ON domain_events")
    op.execute("DROP FUNCTION IF EXISTS domain_events_notify()")
    for name in SEQUENCES:
        op.execute(sa.schema.DropSequence(sa.Sequence(name)))
    op.drop_index('ix_stock_moves_reference', table_name='stock_moves')
    op.drop_index('ix_domain_events_status_payload', table_name='domain_events')
    op.drop_index('ix_domain_events_entity', table_name='domain_events')
    op.drop_index(op.f('ix_shipment_lines_shipment_id'), table_name='shipment_lines')
    op.drop_index(op.f('ix_shipment_lines_order_line_id'), table_name='shipment_lines')
    op.drop_table('shipment_lines')
    op.drop_index(op.f('ix_payment_allocations_payment_id'), table_name='payment_allocations')
    op.drop_index(op.f('ix_payment_allocations_invoice_id'), table_name='payment_allocations')
    op.drop_table('payment_allocations')
    op.drop_index(op.f('ix_invoice_lines_order_line_id'), table_name='invoice_lines')
    op.drop_index(op.f('ix_invoice_lines_invoice_id'), table_name='invoice_lines')
    op.drop_table('invoice_lines')
    op.drop_index(op.f('ix_shipments_order_id'), table_name='shipments')
    op.drop_table('shipments')
    op.drop_index(op.f('ix_sales_order_lines_order_id'), table_name='sales_order_lines')
    op.drop_index(op.f('ix_sales_order_lines_item_id'), table_name='sales_order_lines')
    op.drop_table('sales_order_lines')
    op.drop_index(op.f('ix_invoices_order_id'), table_name='invoices')
    op.drop_index('ix_invoices_customer_open', table_name='invoices')
    op.drop_table('invoices')
    op.drop_index('ix_sales_orders_status', table_name='sales_orders')
    op.drop_index('ix_sales_orders_customer', table_name='sales_orders')
    op.drop_table('sales_orders')
    op.drop_index(op.f('ix_quote_lines_quote_id'), table_name='quote_lines')
    op.drop_index(op.f('ix_quote_lines_item_id'), table_name='quote_lines')
    op.drop_table('quote_lines')
    op.drop_index(op.f('ix_quotes_opportunity_id'), table_name='quotes')
    op.drop_index('ix_quotes_customer', table_name='quotes')
    op.drop_table('quotes')
    op.drop_index(op.f('ix_opportunity_stage_changes_opportunity_id'), table_name='opportunity_stage_changes')
    op.drop_table('opportunity_stage_changes')
    op.drop_index(op.f('ix_opportunity_lines_opportunity_id'), table_name='opportunity_lines')
    op.drop_index(op.f('ix_opportunity_lines_item_id'), table_name='opportunity_lines')
    op.drop_table('opportunity_lines')
    op.drop_table('leads')
    op.drop_index(op.f('ix_activities_opportunity_id'), table_name='activities')
    op.drop_table('activities')
    op.drop_index(op.f('ix_payments_customer_id'), table_name='payments')
    op.drop_table('payments')
    op.drop_index('ix_opportunities_customer', table_name='opportunities')
    op.drop_table('opportunities')
