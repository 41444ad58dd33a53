"""students: the cohort (年级, the year of enrolment), as rosters name it

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 01:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ADD COLUMN (no batch rebuild of students on SQLite); existing students keep NULL.
    op.add_column('students', sa.Column('cohort', sa.Integer(), nullable=True))


def downgrade() -> None:
    op.drop_column('students', 'cohort')  # SQLite 3.35+ drops a column in place
