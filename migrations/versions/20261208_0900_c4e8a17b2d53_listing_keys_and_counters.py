"""listing keys and counters: proposal.listed_at, votes_for_count, comments_count with an index per
order of the tavolo's list; the tavolo's figures (tavolo.*_count) and tavolo_participant; the
notifications page's index

Revision ID: c4e8a17b2d53
Revises: c3e5a7f9b1d2
Create Date: 2026-12-08 09:00:00

Plain ADD COLUMNs (no batch copy of proposal: on SQLite, dropping the old table would cascade to
its comments and votes), each filled from the rows it counts. The conditions are frozen copies of
consulta.proposals.models.tavolo_tallies_sql() and consulta.comments.models.counted_sql() as of
this revision; `flask recount` recomputes the same figures with the current code.
"""
import sqlalchemy as sa
from alembic import op

revision = 'c4e8a17b2d53'
down_revision = 'c3e5a7f9b1d2'
branch_labels = None
depends_on = None

TAVOLO_COUNTERS = ("proposals_count", "comments_count", "participants_count", "register_count",
                   "answered_count", "listed_count")
LISTED = "state != 'submitted' AND visibility != 'pending'"
PUBLIC = "state NOT IN ('submitted', 'withdrawn') AND visibility = 'visible'"
REGISTER = ("state IN ('approved', 'merged', 'partially_approved', 'published', 'rejected', 'under_review') "
            "AND visibility != 'hidden'")
ANSWERED = "state IN ('approved', 'merged', 'partially_approved', 'rejected') AND visibility != 'hidden'"
COMMENT_COUNTED = "visibility = 'visible' AND deleted_at IS NULL"
VOTE_FOR = "value = 'for'"
INDEXES = {
    "ix_proposal_tavolo_listed": ["tavolo_id", "listed_at", "id"],
    "ix_proposal_tavolo_votes": ["tavolo_id", "votes_for_count", "listed_at", "id"],
    "ix_proposal_tavolo_comments": ["tavolo_id", "comments_count", "listed_at", "id"],
}


def _count(table: str, where: str, owner: str) -> str:
    return f"(SELECT count(*) FROM {table} WHERE {table}.{owner}_id = {owner}.id AND {where})"


def upgrade():
    postgresql = op.get_bind().dialect.name == "postgresql"
    # NOT NULL needs a default for the rows already there (SQLite's ADD COLUMN); each is filled below.
    op.add_column("proposal", sa.Column("listed_at", sa.DateTime(timezone=True), nullable=False,
                                        server_default=sa.text("'1970-01-01 00:00:00'")))
    op.add_column("proposal", sa.Column("votes_for_count", sa.Integer(), nullable=False, server_default="0"))
    op.add_column("proposal", sa.Column("comments_count", sa.Integer(), nullable=False, server_default="0"))
    op.execute(
        "UPDATE proposal SET listed_at = COALESCE(published_at, created_at), "
        f"votes_for_count = {_count('vote', VOTE_FOR, 'proposal')}, "
        f"comments_count = {_count('comment', COMMENT_COUNTED, 'proposal')}")
    if postgresql:
        op.alter_column("proposal", "listed_at", server_default=None)
    for name, columns in INDEXES.items():
        op.create_index(name, "proposal", columns)

    for name in TAVOLO_COUNTERS:
        op.add_column("tavolo", sa.Column(name, sa.Integer(), nullable=False, server_default="0"))
    op.create_table(
        "tavolo_participant",
        sa.Column("tavolo_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("contributions", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["tavolo_id"], ["tavolo.id"], name=op.f("fk_tavolo_participant_tavolo_id_tavolo"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], name=op.f("fk_tavolo_participant_user_id_user"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("tavolo_id", "user_id", name=op.f("pk_tavolo_participant")),
    )
    op.create_index(op.f("ix_tavolo_participant_user_id"), "tavolo_participant", ["user_id"])
    op.create_index("ix_notification_user_created", "notification", ["user_id", "created_at", "id"])
    op.execute(
        "INSERT INTO tavolo_participant (tavolo_id, user_id, contributions) "
        "SELECT tavolo_id, user_id, count(*) FROM ("
        f"SELECT tavolo_id, author_id AS user_id FROM proposal WHERE author_id IS NOT NULL AND {PUBLIC} "
        f"UNION ALL SELECT tavolo_id, author_id FROM comment WHERE author_id IS NOT NULL AND {COMMENT_COUNTED} "
        "UNION ALL SELECT tavolo_id, voter_id FROM vote WHERE voter_id IS NOT NULL"
        ") AS contributions GROUP BY tavolo_id, user_id")
    op.execute(
        "UPDATE tavolo SET "
        f"proposals_count = {_count('proposal', PUBLIC, 'tavolo')}, "
        f"comments_count = {_count('comment', COMMENT_COUNTED, 'tavolo')}, "
        f"participants_count = {_count('tavolo_participant', 'contributions > 0', 'tavolo')}, "
        f"register_count = {_count('proposal', REGISTER, 'tavolo')}, "
        f"answered_count = {_count('proposal', ANSWERED, 'tavolo')}, "
        f"listed_count = {_count('proposal', LISTED, 'tavolo')}")


def downgrade():
    op.drop_index("ix_notification_user_created", table_name="notification")
    op.drop_index(op.f("ix_tavolo_participant_user_id"), table_name="tavolo_participant")
    op.drop_table("tavolo_participant")
    for name in TAVOLO_COUNTERS:
        op.drop_column("tavolo", name)
    for name in INDEXES:
        op.drop_index(name, table_name="proposal")
    for name in ("comments_count", "votes_for_count", "listed_at"):
        op.drop_column("proposal", name)
