"""suppliers as parties: purchase orders and items point at supplier rows; supplier contacts

Every distinct supplier name stored today (purchase orders, items' default supplier)
becomes one supplier row, with a code derived from the name (upper-case, runs of
anything but letters and digits turned into '-', truncated, a numeric suffix where
two names give the same code); names are taken in code-point order so the codes are
the same on every database. Contacts may belong to a customer or to a supplier.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 00:00:00
"""
from __future__ import annotations

import re

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

CODE_LENGTH = 40
BASE_LENGTH = 32  # room for a '-NNN' suffix


def supplier_codes(names: list[str]) -> dict[str, str]:
    """A unique code per name, deterministic for the same set of names."""
    codes: dict[str, str] = {}
    taken: set[str] = set()
    for name in sorted(names):
        base = re.sub(r'[^A-Z0-9]+', '-', name.upper()).strip('-')[:BASE_LENGTH].strip('-') or 'SUPPLIER'
        code, n = base, 1
        while code in taken:
            n += 1
            code = f'{base}-{n}'
        taken.add(code)
        codes[name] = code
    return codes


def upgrade() -> None:
    op.create_table('suppliers',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('phone', sa.String(length=50), nullable=True),
    sa.Column('payment_terms_days', sa.Integer(), server_default=sa.text('30'), nullable=False),
    sa.Column('active', sa.Boolean(), server_default=sa.text('true'), nullable=False),
    sa.Column('version', sa.Integer(), server_default=sa.text('1'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('payment_terms_days >= 0', name=op.f('ck_suppliers_payment_terms_non_negative')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_suppliers')),
    sa.UniqueConstraint('code', name=op.f('uq_suppliers_code'))
    )

    conn = op.get_bind()
    names = [row[0] for row in conn.execute(sa.text(
        'SELECT supplier FROM purchase_orders UNION '
        'SELECT default_supplier FROM items WHERE default_supplier IS NOT NULL'
    ))]
    codes = supplier_codes(names)
    if codes:
        conn.execute(
            sa.text('INSERT INTO suppliers (code, name) VALUES (:code, :name)'),
            [{'code': code, 'name': name[:200]} for name, code in sorted(codes.items(), key=lambda kv: kv[1])],
        )

    op.add_column('purchase_orders', sa.Column('supplier_id', sa.BigInteger(), nullable=True))
    op.execute('UPDATE purchase_orders po SET supplier_id = s.id FROM suppliers s WHERE s.name = po.supplier')
    op.alter_column('purchase_orders', 'supplier_id', nullable=False)
    op.create_foreign_key(op.f('fk_purchase_orders_supplier_id_suppliers'), 'purchase_orders', 'suppliers',
                          ['supplier_id'], ['id'])
    op.create_index(op.f('ix_purchase_orders_supplier_id'), 'purchase_orders', ['supplier_id'], unique=False)
    op.drop_column('purchase_orders', 'supplier')

    op.add_column('items', sa.Column('default_supplier_id', sa.BigInteger(), nullable=True))
    op.execute('UPDATE items i SET default_supplier_id = s.id FROM suppliers s WHERE s.name = i.default_supplier')
    op.create_foreign_key(op.f('fk_items_default_supplier_id_suppliers'), 'items', 'suppliers',
                          ['default_supplier_id'], ['id'])
    op.create_index(op.f('ix_items_default_supplier_id'), 'items', ['default_supplier_id'], unique=False)
    op.drop_column('items', 'default_supplier')

    op.alter_column('contacts', 'customer_id', existing_type=sa.BigInteger(), nullable=True)
    op.add_column('contacts', sa.Column('supplier_id', sa.BigInteger(), nullable=True))
    op.create_foreign_key(op.f('fk_contacts_supplier_id_suppliers'), 'contacts', 'suppliers',
                          ['supplier_id'], ['id'], ondelete='CASCADE')
    op.create_index(op.f('ix_contacts_supplier_id'), 'contacts', ['supplier_id'], unique=False)
    op.create_check_constraint(op.f('ck_contacts_one_owner'), 'contacts',
                               'num_nonnulls(customer_id, supplier_id) = 1')


def downgrade() -> None:
    # supplier contacts have no place in the old shape
    op.execute('DELETE FROM contacts WHERE supplier_id IS NOT NULL')
    op.drop_constraint(op.f('ck_contacts_one_owner'), 'contacts', type_='check')
    op.drop_index(op.f('ix_contacts_supplier_id'), table_name='contacts')
    op.drop_constraint(op.f('fk_contacts_supplier_id_suppliers'), 'contacts', type_='foreignkey')
    op.drop_column('contacts', 'supplier_id')
    op.alter_column('contacts', 'customer_id', existing_type=sa.BigInteger(), nullable=False)

    op.add_column('items', sa.Column('default_supplier', sa.String(length=200), nullable=True))
    op.execute('UPDATE items i SET default_supplier = s.name FROM suppliers s WHERE s.id = i.default_supplier_id')
    op.drop_index(op.f('ix_items_default_supplier_id'), table_name='items')
    op.drop_constraint(op.f('fk_items_default_supplier_id_suppliers'), 'items', type_='foreignkey')
    op.drop_column('items', 'default_supplier_id')

    op.add_column('purchase_orders', sa.Column('supplier', sa.String(length=200), nullable=True))
    op.execute('UPDATE purchase_orders po SET supplier = s.name FROM suppliers s WHERE s.id = po.supplier_id')
    op.alter_column('purchase_orders', 'supplier', nullable=False)
    op.drop_index(op.f('ix_purchase_orders_supplier_id'), table_name='purchase_orders')
    op.drop_constraint(op.f('fk_purchase_orders_supplier_id_suppliers'), 'purchase_orders', type_='foreignkey')
    op.drop_column('purchase_orders', 'supplier_id')
    op.drop_table('suppliers')
