"""api tokens: a non-secret prefix to name a token by (token list / token revoke)

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30 00:30:00

Existing tokens keep a null prefix: only their hash was stored, so the prefix cannot
be derived; they are listed and revoked by name.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('api_tokens', sa.Column('token_prefix', sa.String(length=16), nullable=True))
    op.create_index('ix_api_tokens_token_prefix', 'api_tokens', ['token_prefix'])


def downgrade() -> None:
    op.drop_index('ix_api_tokens_token_prefix', table_name='api_tokens')
    op.drop_column('api_tokens', 'token_prefix')
