"""foundation

Revision ID: 0001
Revises:
Create Date: 2026-11-22 14:59:22.631549
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql


class XID8(sa.types.UserDefinedType):
    cache_ok = True

    def get_col_spec(self, **kw):
        return "xid8"


APPEND_ONLY = ["""
CREATE FUNCTION stock_moves_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'stock_moves is an append-only ledger (% refused)', TG_OP;
END $$
""", """
CREATE TRIGGER stock_moves_append_only BEFORE UPDATE OR DELETE ON stock_moves
    FOR EACH ROW EXECUTE FUNCTION stock_moves_append_only()
""", """
CREATE TRIGGER stock_moves_no_truncate BEFORE TRUNCATE ON stock_moves
    FOR EACH STATEMENT EXECUTE FUNCTION stock_moves_append_only()
"""]

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('api_tokens',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("role IN ('admin', 'sales', 'finance', 'production', 'planner', 'partner')", name=op.f('ck_api_tokens_role_known')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_tokens_token_hash'))
    )
    op.create_table('customers',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('phone', sa.String(length=50), nullable=True),
    sa.Column('segment', sa.String(length=80), nullable=True),
    sa.Column('tags', postgresql.ARRAY(sa.String(length=60)), server_default=sa.text("'{}'"), nullable=False),
    sa.Column('payment_terms_days', sa.Integer(), server_default=sa.text('30'), nullable=False),
    sa.Column('credit_limit', sa.Numeric(precision=18, scale=2), server_default=sa.text('0'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('credit_limit >= 0', name=op.f('ck_customers_credit_limit_non_negative')),
    sa.CheckConstraint('payment_terms_days >= 0', name=op.f('ck_customers_payment_terms_non_negative')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customers')),
    sa.UniqueConstraint('code', name=op.f('uq_customers_code'))
    )
    op.create_table('domain_events',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=True), nullable=False),
    sa.Column('type', sa.String(length=80), nullable=False),
    sa.Column('entity_type', sa.String(length=40), nullable=False),
    sa.Column('entity_id', sa.BigInteger(), nullable=False),
    sa.Column('payload', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
    sa.Column('actor', sa.String(length=120), nullable=True),
    sa.Column('txid', XID8(), server_default=sa.text('pg_current_xact_id()'), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_domain_events'))
    )
    op.create_index('ix_domain_events_txid_id', 'domain_events', ['txid', 'id'], unique=False)
    op.create_index(op.f('ix_domain_events_type'), 'domain_events', ['type'], unique=False)
    op.create_table('external_refs',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('entity_type', sa.String(length=40), nullable=False),
    sa.Column('entity_id', sa.BigInteger(), nullable=False),
    sa.Column('system', sa.String(length=40), nullable=False),
    sa.Column('external_id', sa.String(length=120), nullable=True),
    sa.Column('status', sa.String(length=10), server_default=sa.text("'PENDING'"), nullable=False),
    sa.Column('attempts', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('synced_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('PENDING', 'SYNCED', 'FAILED')", name=op.f('ck_external_refs_status_known')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_external_refs'))
    )
    op.create_index('ix_external_refs_entity', 'external_refs', ['entity_type', 'entity_id'], unique=False)
    op.create_index('uq_external_refs_system_external_id', 'external_refs', ['system', 'entity_type', 'external_id'], unique=True, postgresql_where=sa.text('external_id IS NOT NULL'))
    op.create_table('items',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('sku', sa.String(length=60), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('uom', sa.String(length=20), server_default=sa.text("'pcs'"), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('procurement', sa.String(length=20), nullable=False),
    sa.Column('lead_time_days', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('safety_stock', sa.Numeric(precision=20, scale=6), server_default=sa.text('0'), nullable=False),
    sa.Column('scrap_rate', sa.Numeric(precision=20, scale=6), server_default=sa.text('0'), nullable=False),
    sa.Column('lot_sizing', sa.String(length=30), server_default=sa.text("'LOT_FOR_LOT'"), nullable=False),
    sa.Column('fixed_lot_size', sa.Numeric(precision=20, scale=6), nullable=True),
    sa.Column('min_order_quantity', sa.Numeric(precision=20, scale=6), nullable=True),
    sa.Column('lot_multiple', sa.Numeric(precision=20, scale=6), nullable=True),
    sa.Column('list_price', sa.Numeric(precision=18, scale=4), server_default=sa.text('0'), nullable=False),
    sa.Column('standard_cost', sa.Numeric(precision=18, scale=4), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("kind IN ('FINISHED', 'SEMI_FINISHED', 'RAW_MATERIAL')", name=op.f('ck_items_kind_known')),
    sa.CheckConstraint("lot_sizing IN ('LOT_FOR_LOT', 'FIXED_ORDER_QUANTITY', 'MIN_MULTIPLE')", name=op.f('ck_items_lot_sizing_known')),
    sa.CheckConstraint("procurement IN ('MAKE', 'BUY', 'SUBCONTRACT')", name=op.f('ck_items_procurement_known')),
    sa.CheckConstraint('lead_time_days >= 0', name=op.f('ck_items_lead_time_non_negative')),
    sa.CheckConstraint('list_price >= 0', name=op.f('ck_items_list_price_non_negative')),
    sa.CheckConstraint('safety_stock >= 0', name=op.f('ck_items_safety_stock_non_negative')),
    sa.CheckConstraint('scrap_rate >= 0 AND scrap_rate < 1', name=op.f('ck_items_scrap_rate_range')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_items')),
    sa.UniqueConstraint('sku', name=op.f('uq_items_sku'))
    )
    op.create_index('ix_items_name_lower', 'items', [sa.literal_column('lower(name)')], unique=False)
    op.create_table('warehouses',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('is_default', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_warehouses')),
    sa.UniqueConstraint('code', name=op.f('uq_warehouses_code'))
    )
    op.create_table('boms',
    sa.Column('item_id', sa.BigInteger(), nullable=False),
    sa.Column('output_quantity', sa.Numeric(precision=20, scale=6), server_default=sa.text('1'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('output_quantity > 0', name=op.f('ck_boms_output_positive')),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_boms_item_id_items'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('item_id', name=op.f('pk_boms'))
    )
    op.create_table('contacts',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('customer_id', sa.BigInteger(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('phone', sa.String(length=50), nullable=True),
    sa.Column('title', sa.String(length=120), nullable=True),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_contacts_customer_id_customers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contacts'))
    )
    op.create_index(op.f('ix_contacts_customer_id'), 'contacts', ['customer_id'], unique=False)
    op.create_table('stock_balances',
    sa.Column('item_id', sa.BigInteger(), nullable=False),
    sa.Column('warehouse_id', sa.BigInteger(), nullable=False),
    sa.Column('on_hand', sa.Numeric(precision=20, scale=6), server_default=sa.text('0'), nullable=False),
    sa.Column('reserved', sa.Numeric(precision=20, scale=6), server_default=sa.text('0'), nullable=False),
    sa.CheckConstraint('on_hand >= 0', name=op.f('ck_stock_balances_on_hand_non_negative')),
    sa.CheckConstraint('reserved <= on_hand', name=op.f('ck_stock_balances_reserved_within_on_hand')),
    sa.CheckConstraint('reserved >= 0', name=op.f('ck_stock_balances_reserved_non_negative')),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_stock_balances_item_id_items')),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouses.id'], name=op.f('fk_stock_balances_warehouse_id_warehouses')),
    sa.PrimaryKeyConstraint('item_id', 'warehouse_id', name=op.f('pk_stock_balances'))
    )
    op.create_table('stock_moves',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=True), nullable=False),
    sa.Column('item_id', sa.BigInteger(), nullable=False),
    sa.Column('warehouse_id', sa.BigInteger(), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('quantity_on_hand', sa.Numeric(precision=20, scale=6), server_default=sa.text('0'), nullable=False),
    sa.Column('quantity_reserved', sa.Numeric(precision=20, scale=6), server_default=sa.text('0'), nullable=False),
    sa.Column('unit_cost', sa.Numeric(precision=18, scale=4), nullable=True),
    sa.Column('reason', sa.String(length=300), nullable=True),
    sa.Column('reference_type', sa.String(length=40), nullable=True),
    sa.Column('reference_id', sa.BigInteger(), nullable=True),
    sa.Column('actor', sa.String(length=120), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('quantity_on_hand <> 0 OR quantity_reserved <> 0', name=op.f('ck_stock_moves_moves_something')),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_stock_moves_item_id_items')),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouses.id'], name=op.f('fk_stock_moves_warehouse_id_warehouses')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stock_moves'))
    )
    op.create_index('ix_stock_moves_item_wh', 'stock_moves', ['item_id', 'warehouse_id', 'id'], unique=False)
    op.create_table('bom_lines',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('bom_item_id', sa.BigInteger(), nullable=False),
    sa.Column('component_id', sa.BigInteger(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Numeric(precision=20, scale=6), nullable=False),
    sa.Column('scrap_rate', sa.Numeric(precision=20, scale=6), server_default=sa.text('0'), nullable=False),
    sa.CheckConstraint('component_id <> bom_item_id', name=op.f('ck_bom_lines_not_self')),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_bom_lines_quantity_positive')),
    sa.CheckConstraint('scrap_rate >= 0 AND scrap_rate < 1', name=op.f('ck_bom_lines_scrap_rate_range')),
    sa.ForeignKeyConstraint(['bom_item_id'], ['boms.item_id'], name=op.f('fk_bom_lines_bom_item_id_boms'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['component_id'], ['items.id'], name=op.f('fk_bom_lines_component_id_items')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bom_lines'))
    )
    op.create_index(op.f('ix_bom_lines_component_id'), 'bom_lines', ['component_id'], unique=False)
    op.create_index('uq_bom_lines_component', 'bom_lines', ['bom_item_id', 'component_id'], unique=True)
    for statement in APPEND_ONLY:
        op.execute(statement)


def downgrade() -> None:
    # the append-only trigger refuses TRUNCATE and friends, not DROP; its index goes with it
    op.execute("DROP TABLE IF EXISTS stock_moves CASCADE")
    op.execute("DROP FUNCTION IF EXISTS stock_moves_append_only()")
    op.drop_index('uq_bom_lines_component', table_name='bom_lines')
    op.drop_index(op.f('ix_bom_lines_component_id'), table_name='bom_lines')
    op.drop_table('bom_lines')
    op.drop_table('stock_balances')
    op.drop_index(op.f('ix_contacts_customer_id'), table_name='contacts')
    op.drop_table('contacts')
    op.drop_table('boms')
    op.drop_table('warehouses')
    op.drop_index('ix_items_name_lower', table_name='items')
    op.drop_table('items')
    op.drop_index('uq_external_refs_system_external_id', table_name='external_refs', postgresql_where=sa.text('external_id IS NOT NULL'))
    op.drop_index('ix_external_refs_entity', table_name='external_refs')
    op.drop_table('external_refs')
    op.drop_index(op.f('ix_domain_events_type'), table_name='domain_events')
    op.drop_table('domain_events')
    op.drop_table('customers')
    op.drop_table('api_tokens')
