"""notifications: in-app news per actor, and users' e-mail addresses

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'notifications',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('recipient_actor_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=40), nullable=False),
        sa.Column('params', sa.JSON(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['recipient_actor_id'], ['actors.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_notifications_recipient_unread', 'notifications', ['recipient_actor_id', 'read_at'])
    op.create_index(op.f('ix_notifications_created_at'), 'notifications', ['created_at'])
    # A plain ADD COLUMN, never a batch rebuild: rebuilding users on SQLite would fire the
    # ON DELETE CASCADE of web_sessions and sign everyone out.
    op.add_column('users', sa.Column('email', sa.String(length=254), nullable=True))


def downgrade() -> None:
    op.drop_column('users', 'email')  # SQLite 3.35+ drops a column in place, again without a rebuild
    op.drop_index(op.f('ix_notifications_created_at'), table_name='notifications')
    op.drop_index('ix_notifications_recipient_unread', table_name='notifications')
    op.drop_table('notifications')
