"""agreement details: the 三方协议's number and signing date on a confirmed placement

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 23:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('placements', schema=None) as batch_op:
        batch_op.add_column(sa.Column('agreement_no', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('agreement_signed_on', sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('placements', schema=None) as batch_op:
        batch_op.drop_column('agreement_signed_on')
        batch_op.drop_column('agreement_no')
