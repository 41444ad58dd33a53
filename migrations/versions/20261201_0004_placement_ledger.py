"""placement ledger: published/superseded/withdrawn runs and placements, one current placement per
student per term, filled seats checked by the database, nothing deleted by cascade

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 22:30:00

Existing data is brought into the ledger's invariants before the constraints are created: of
several published runs of one scope the newest stays current and the older ones become
superseded (with their unanswered placements); of several current placements of one student in a
term (a supplementary round's copy of an accepted placement, two published runs) the strongest
(completed > confirmed > accepted > published, then the oldest) stays and the others become
superseded.  Nothing is deleted.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_RUN_STATUSES = ('queued', 'running', 'succeeded', 'infeasible', 'no_solution_in_time', 'failed', 'cancelled')
NEW_RUN_STATUSES = (*OLD_RUN_STATUSES, 'published', 'superseded', 'withdrawn')
OLD_PLACEMENT_STATUSES = ('proposed', 'published', 'accepted', 'declined', 'confirmed', 'completed')
NEW_PLACEMENT_STATUSES = (*OLD_PLACEMENT_STATUSES, 'superseded', 'withdrawn')
CURRENT = "('published', 'accepted', 'confirmed', 'completed')"
LIVE = "('accepted', 'confirmed', 'completed')"


def _in(values: Sequence[str]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


def _normalise_existing_rows() -> None:
    bind = op.get_bind()
    # Published runs: the newest of each scope is current, older ones superseded.
    runs = bind.execute(sa.text(
        "SELECT id, kind, scope_key FROM allocation_runs WHERE published_at IS NOT NULL ORDER BY id DESC")).all()
    seen: set[tuple[str, str]] = set()
    for run_id, kind, scope_key in runs:
        if (kind, scope_key) in seen:
            bind.execute(sa.text("UPDATE allocation_runs SET status = 'superseded' WHERE id = :id"), {"id": run_id})
            bind.execute(sa.text("UPDATE placements SET status = 'superseded' WHERE run_id = :id "
                                 "AND status = 'published'"), {"id": run_id})
        else:
            seen.add((kind, scope_key))
            bind.execute(sa.text("UPDATE allocation_runs SET status = 'published' WHERE id = :id"), {"id": run_id})
    # Several current placements of one student in one term, or of one course need.
    strength = ("CASE status WHEN 'completed' THEN 0 WHEN 'confirmed' THEN 1 WHEN 'accepted' THEN 2 ELSE 3 END")
    for key in ("term, student_id", "course_need_id"):
        kind = "internship" if "student" in key else "lecturer"
        rows = bind.execute(sa.text(
            f"SELECT id, {key} FROM placements WHERE kind = '{kind}' AND status IN {CURRENT} "  # noqa: S608
            f"ORDER BY {key}, {strength}, id")).all()
        previous = None
        for row in rows:
            group = tuple(row[1:])
            if group == previous:
                bind.execute(sa.text("UPDATE placements SET status = 'superseded' WHERE id = :id"), {"id": row[0]})
            previous = group


def upgrade() -> None:
    with op.batch_alter_table('allocation_runs', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_allocation_runs_run_status'), type_='check')
        batch_op.create_check_constraint(op.f('ck_allocation_runs_run_status'), f"status IN {_in(NEW_RUN_STATUSES)}")
        batch_op.add_column(sa.Column('forked_from_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('basis', sa.JSON(), nullable=False, server_default='{}'))
        batch_op.add_column(sa.Column('stale_reasons', sa.JSON(), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_allocation_runs_forked_from_id_allocation_runs'),
                                    'allocation_runs', ['forked_from_id'], ['id'], ondelete='SET NULL')

    with op.batch_alter_table('placements', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_placements_placement_status'), type_='check')
        batch_op.create_check_constraint(op.f('ck_placements_placement_status'),
                                         f"status IN {_in(NEW_PLACEMENT_STATUSES)}")
        batch_op.add_column(sa.Column('withdrawn_reason', sa.Text(), nullable=True))
        batch_op.drop_constraint(op.f('fk_placements_run_id_allocation_runs'), type_='foreignkey')
        batch_op.drop_constraint(op.f('fk_placements_student_id_students'), type_='foreignkey')
        batch_op.create_foreign_key(batch_op.f('fk_placements_run_id_allocation_runs'), 'allocation_runs',
                                    ['run_id'], ['id'], ondelete='RESTRICT')
        batch_op.create_foreign_key(batch_op.f('fk_placements_student_id_students'), 'students',
                                    ['student_id'], ['id'], ondelete='RESTRICT')

    _normalise_existing_rows()

    with op.batch_alter_table('allocation_runs', schema=None) as batch_op:
        batch_op.create_index('uq_allocation_runs_published_scope', ['kind', 'scope_key'], unique=True,
                              sqlite_where=sa.text("status = 'published'"),
                              postgresql_where=sa.text("status = 'published'"))
    with op.batch_alter_table('placements', schema=None) as batch_op:
        batch_op.create_index('uq_placements_current_student_term', ['term', 'student_id'], unique=True,
                              sqlite_where=sa.text(f"kind = 'internship' AND status IN {CURRENT}"),
                              postgresql_where=sa.text(f"kind = 'internship' AND status IN {CURRENT}"))
        batch_op.create_index('uq_placements_current_course_need', ['course_need_id'], unique=True,
                              sqlite_where=sa.text(f"kind = 'lecturer' AND status IN {CURRENT}"),
                              postgresql_where=sa.text(f"kind = 'lecturer' AND status IN {CURRENT}"))

    with op.batch_alter_table('openings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('filled_seats', sa.Integer(), nullable=False, server_default='0'))
    op.execute(f"UPDATE openings SET filled_seats = (SELECT COUNT(*) FROM placements WHERE "  # noqa: S608
               f"placements.opening_id = openings.id AND placements.kind = 'internship' "
               f"AND placements.status IN {LIVE})")
    with op.batch_alter_table('openings', schema=None) as batch_op:
        batch_op.create_check_constraint(op.f('ck_openings_filled_within_seats'),
                                         'filled_seats >= 0 AND filled_seats <= seats')


def downgrade() -> None:
    with op.batch_alter_table('openings', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_openings_filled_within_seats'), type_='check')
        batch_op.drop_column('filled_seats')

    with op.batch_alter_table('placements', schema=None) as batch_op:
        batch_op.drop_index('uq_placements_current_course_need',
                            sqlite_where=sa.text(f"kind = 'lecturer' AND status IN {CURRENT}"),
                            postgresql_where=sa.text(f"kind = 'lecturer' AND status IN {CURRENT}"))
        batch_op.drop_index('uq_placements_current_student_term',
                            sqlite_where=sa.text(f"kind = 'internship' AND status IN {CURRENT}"),
                            postgresql_where=sa.text(f"kind = 'internship' AND status IN {CURRENT}"))
    # The old statuses cannot say superseded or withdrawn: such rows read as declined.
    op.execute("UPDATE placements SET status = 'declined' WHERE status IN ('superseded', 'withdrawn')")
    with op.batch_alter_table('placements', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('fk_placements_student_id_students'), type_='foreignkey')
        batch_op.drop_constraint(op.f('fk_placements_run_id_allocation_runs'), type_='foreignkey')
        batch_op.create_foreign_key(batch_op.f('fk_placements_student_id_students'), 'students',
                                    ['student_id'], ['id'], ondelete='CASCADE')
        batch_op.create_foreign_key(batch_op.f('fk_placements_run_id_allocation_runs'), 'allocation_runs',
                                    ['run_id'], ['id'], ondelete='CASCADE')
        batch_op.drop_column('withdrawn_reason')
        batch_op.drop_constraint(op.f('ck_placements_placement_status'), type_='check')
        batch_op.create_check_constraint(op.f('ck_placements_placement_status'),
                                         f"status IN {_in(OLD_PLACEMENT_STATUSES)}")

    op.execute("UPDATE allocation_runs SET status = 'succeeded' WHERE status IN ('published', 'superseded', "
               "'withdrawn')")
    with op.batch_alter_table('allocation_runs', schema=None) as batch_op:
        batch_op.drop_index('uq_allocation_runs_published_scope', sqlite_where=sa.text("status = 'published'"),
                            postgresql_where=sa.text("status = 'published'"))
        batch_op.drop_constraint(batch_op.f('fk_allocation_runs_forked_from_id_allocation_runs'),
                                 type_='foreignkey')
        batch_op.drop_column('withdrawn_at')
        batch_op.drop_column('stale_reasons')
        batch_op.drop_column('basis')
        batch_op.drop_column('forked_from_id')
        batch_op.drop_constraint(op.f('ck_allocation_runs_run_status'), type_='check')
        batch_op.create_check_constraint(op.f('ck_allocation_runs_run_status'), f"status IN {_in(OLD_RUN_STATUSES)}")
