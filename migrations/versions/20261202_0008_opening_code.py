"""openings: the enterprise's own code for an opening (岗位编号), unique per enterprise

Imports update an opening by this code (upsert) instead of asking for an internal id.  Existing rows
keep NULL; several NULLs never collide in a unique index on SQLite or PostgreSQL.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 00:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ADD COLUMN and a unique index, never a batch rebuild: a rebuild of openings on SQLite
    # would copy every row and its version counter for no gain.
    op.add_column('openings', sa.Column('code', sa.String(length=40), nullable=True))
    op.create_index('uq_openings_enterprise_code', 'openings', ['enterprise_id', 'code'], unique=True)


def downgrade() -> None:
    op.drop_index('uq_openings_enterprise_code', table_name='openings')
    op.drop_column('openings', 'code')  # SQLite 3.35+ drops a column in place
