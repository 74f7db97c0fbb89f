"""stock valuation: moving average per item, values on the ledger; work order completion day

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-30 02:40:00

The ledger's history is valued by replaying it in id order with the rule of
``domain.inventory.valuation`` (a frozen copy in PL/pgSQL: a migration must not change
when the code does). A receipt without a cost comes in at the average so far, else the
item's standard cost, else zero. The append-only trigger is set aside for the replay
only. ``completed_on`` of completed work orders is the day of the report that
completed them, else the day the row last changed.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

EXACT = sa.Numeric(precision=32, scale=10)

REPLAY = """
DO $$
DECLARE
    m record;
    st record;
    u numeric;
    v numeric;
BEGIN
    CREATE TEMP TABLE valuation_replay (
        item_id bigint PRIMARY KEY, quantity numeric NOT NULL, value numeric NOT NULL, average numeric
    ) ON COMMIT DROP;
    FOR m IN
        SELECT s.id, s.item_id, s.quantity_on_hand AS q, s.unit_cost, i.standard_cost
        FROM stock_moves s JOIN items i ON i.id = s.item_id
        WHERE s.quantity_on_hand <> 0
        ORDER BY s.id
    LOOP
        INSERT INTO valuation_replay VALUES (m.item_id, 0, 0, NULL) ON CONFLICT DO NOTHING;
        SELECT * INTO st FROM valuation_replay WHERE item_id = m.item_id;
        IF m.q > 0 THEN
            u := coalesce(m.unit_cost, st.average, m.standard_cost, 0);
            v := round(m.q * u, 10);
            UPDATE valuation_replay SET
                quantity = st.quantity + m.q,
                value = st.value + v,
                average = CASE WHEN st.quantity <= 0 OR st.quantity + m.q <= 0 THEN u
                               ELSE round((st.value + v) / (st.quantity + m.q), 10) END
            WHERE item_id = m.item_id;
        ELSE
            u := coalesce(st.average, 0);
            v := CASE WHEN st.quantity + m.q = 0 THEN -st.value ELSE -round(-m.q * u, 10) END;
            UPDATE valuation_replay SET quantity = st.quantity + m.q, value = st.value + v
            WHERE item_id = m.item_id;
        END IF;
        UPDATE stock_moves SET unit_cost = u, value = v WHERE id = m.id;
    END LOOP;
    INSERT INTO item_valuations (item_id, quantity, value, average_cost)
    SELECT item_id, quantity, value, average FROM valuation_replay;
END $$;
"""


def upgrade() -> None:
    op.create_table('item_valuations',
    sa.Column('item_id', sa.BigInteger(), nullable=False),
    sa.Column('quantity', sa.Numeric(precision=20, scale=6), server_default=sa.text('0'), nullable=False),
    sa.Column('value', EXACT, server_default=sa.text('0'), nullable=False),
    sa.Column('average_cost', EXACT, nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_item_valuations_item_id_items'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('item_id', name=op.f('pk_item_valuations'))
    )
    op.alter_column('stock_moves', 'unit_cost', type_=EXACT, existing_type=sa.Numeric(18, 4))
    op.add_column('stock_moves', sa.Column('value', EXACT, nullable=True))
    op.drop_constraint(op.f('ck_stock_moves_moves_something'), 'stock_moves', type_='check')
    op.create_check_constraint(
        op.f('ck_stock_moves_moves_something'), 'stock_moves',
        'quantity_on_hand <> 0 OR quantity_reserved <> 0 OR value <> 0',
    )
    op.execute("ALTER TABLE stock_moves DISABLE TRIGGER stock_moves_append_only")
    op.execute(REPLAY)
    op.execute("ALTER TABLE stock_moves ENABLE TRIGGER stock_moves_append_only")

    op.add_column('work_orders', sa.Column('completed_on', sa.Date(), nullable=True))
    op.create_index(op.f('ix_work_orders_completed_on'), 'work_orders', ['completed_on'])
    op.execute("""
        UPDATE work_orders w SET completed_on = coalesce(
            (SELECT max(e.occurred_at)::date FROM domain_events e
             WHERE e.entity_type = 'WorkOrder' AND e.entity_id = w.id
               AND e.type = 'work_order.production_reported' AND e.payload->>'status' = 'COMPLETED'),
            w.updated_at::date)
        WHERE w.status IN ('COMPLETED', 'CLOSED')
    """)


def downgrade() -> None:
    op.drop_index(op.f('ix_work_orders_completed_on'), table_name='work_orders')
    op.drop_column('work_orders', 'completed_on')
    # value-only rows cannot live under the old constraint; revaluations are dropped with it
    op.execute("ALTER TABLE stock_moves DISABLE TRIGGER stock_moves_append_only")
    op.execute("DELETE FROM stock_moves WHERE quantity_on_hand = 0 AND quantity_reserved = 0")
    op.execute("ALTER TABLE stock_moves ENABLE TRIGGER stock_moves_append_only")
    op.drop_constraint(op.f('ck_stock_moves_moves_something'), 'stock_moves', type_='check')
    op.create_check_constraint(
        op.f('ck_stock_moves_moves_something'), 'stock_moves',
        'quantity_on_hand <> 0 OR quantity_reserved <> 0',
    )
    op.drop_column('stock_moves', 'value')
    op.alter_column('stock_moves', 'unit_cost', type_=sa.Numeric(18, 4), existing_type=EXACT,
                    postgresql_using='round(unit_cost, 4)')
    op.drop_table('item_valuations')
