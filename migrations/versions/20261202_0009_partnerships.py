"""partnerships (校企合作项目) with their programs and per-term commitments; alliances and members

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 01:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STATUS = sa.Enum('proposed', 'agreed', 'active', 'ended', name='partnership_status', native_enum=False,
                  create_constraint=True, length=32)


def upgrade() -> None:
    # New tables only: nothing existing is rebuilt, so no data moves.
    op.create_table(
        'partnerships',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('college_id', sa.Integer(), nullable=False),
        sa.Column('enterprise_id', sa.Integer(), nullable=False),
        sa.Column('forms', sa.JSON(), nullable=False),
        sa.Column('release_unused', sa.Boolean(), nullable=False),
        sa.Column('status', _STATUS, nullable=False),
        sa.Column('proposed_by', sa.String(length=20), nullable=False),
        sa.Column('description', sa.Text(), nullable=False),
        sa.Column('created_by', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['college_id'], ['colleges.id'], ondelete='RESTRICT'),
        sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'], ondelete='RESTRICT'),
        sa.ForeignKeyConstraint(['created_by'], ['actors.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index(op.f('ix_partnerships_college_id'), 'partnerships', ['college_id'])
    op.create_index(op.f('ix_partnerships_enterprise_id'), 'partnerships', ['enterprise_id'])
    op.create_index(op.f('ix_partnerships_status'), 'partnerships', ['status'])
    op.create_table(
        'partnership_programs',
        sa.Column('partnership_id', sa.Integer(), nullable=False),
        sa.Column('program_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['partnership_id'], ['partnerships.id'], ondelete='RESTRICT'),
        sa.ForeignKeyConstraint(['program_id'], ['programs.id'], ondelete='RESTRICT'),
        sa.PrimaryKeyConstraint('partnership_id', 'program_id'),
    )
    op.create_index(op.f('ix_partnership_programs_program_id'), 'partnership_programs', ['program_id'])
    op.create_table(
        'partnership_terms',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('partnership_id', sa.Integer(), nullable=False),
        sa.Column('term', sa.String(length=20), nullable=False),
        sa.Column('reserved_seats', sa.Integer(), nullable=False),
        sa.Column('lecturer_hours', sa.Integer(), nullable=False),
        sa.Column('training_places', sa.Integer(), nullable=False),
        sa.CheckConstraint('reserved_seats >= 0 AND lecturer_hours >= 0 AND training_places >= 0',
                           name=op.f('ck_partnership_terms_commitments_nonnegative')),
        sa.ForeignKeyConstraint(['partnership_id'], ['partnerships.id'], ondelete='RESTRICT'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('partnership_id', 'term'),
    )
    op.create_index(op.f('ix_partnership_terms_partnership_id'), 'partnership_terms', ['partnership_id'])
    op.create_index(op.f('ix_partnership_terms_term'), 'partnership_terms', ['term'])
    op.create_table(
        'alliances',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('kind', sa.String(length=40), nullable=False),
        sa.Column('scheduler_actor_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['scheduler_actor_id'], ['actors.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('name'),
    )
    op.create_index(op.f('ix_alliances_scheduler_actor_id'), 'alliances', ['scheduler_actor_id'])
    op.create_table(
        'alliance_members',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('alliance_id', sa.Integer(), nullable=False),
        sa.Column('college_id', sa.Integer(), nullable=True),
        sa.Column('enterprise_id', sa.Integer(), nullable=True),
        sa.CheckConstraint('(college_id IS NULL) <> (enterprise_id IS NULL)', name=op.f('ck_alliance_members_one_member')),
        sa.ForeignKeyConstraint(['alliance_id'], ['alliances.id'], ondelete='RESTRICT'),
        sa.ForeignKeyConstraint(['college_id'], ['colleges.id'], ondelete='RESTRICT'),
        sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'], ondelete='RESTRICT'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('alliance_id', 'college_id'),
        sa.UniqueConstraint('alliance_id', 'enterprise_id'),
    )
    op.create_index(op.f('ix_alliance_members_alliance_id'), 'alliance_members', ['alliance_id'])
    op.create_index(op.f('ix_alliance_members_college_id'), 'alliance_members', ['college_id'])
    op.create_index(op.f('ix_alliance_members_enterprise_id'), 'alliance_members', ['enterprise_id'])


def downgrade() -> None:
    for table in ('alliance_members', 'alliances', 'partnership_terms', 'partnership_programs', 'partnerships'):
        op.drop_table(table)
