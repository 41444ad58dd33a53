"""post headcount and scoring models

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 11:53:22.450014
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('scoring_models',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pairing', sa.String(length=40), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('artifact', sa.LargeBinary(), nullable=False),
    sa.Column('training_digest', sa.String(length=64), nullable=False),
    sa.Column('metrics', sa.JSON(), nullable=False),
    sa.Column('library_versions', sa.JSON(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scoring_models')),
    sa.UniqueConstraint('pairing', 'version', name=op.f('uq_scoring_models_pairing_version'))
    )
    with op.batch_alter_table('openings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('post_headcount', sa.Integer(), nullable=True))
        batch_op.create_check_constraint(op.f('ck_openings_post_headcount_positive'),
                                         'post_headcount IS NULL OR post_headcount > 0')



def downgrade() -> None:
    with op.batch_alter_table('openings', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_openings_post_headcount_positive'), type_='check')
        batch_op.drop_column('post_headcount')

    op.drop_table('scoring_models')
