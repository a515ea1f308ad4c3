"""meetings, minutes, e-mail outbox, moderation flags and the plan record

Revision ID: 5d34864fa69c
Revises: 0e664d598f0d
Create Date: 2026-11-23 20:38:07.936009

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5d34864fa69c'
down_revision = '0e664d598f0d'
branch_labels = None
depends_on = None


# Frozen copies of consulta.meetings.models.trigger_statements(): a migration must not change
# when the application code does.
TRIGGERS = {
    'sqlite': [
        "CREATE TRIGGER minutes_immutable_update BEFORE UPDATE OF id, meeting_id, tavolo_id, corrects_id, status, agenda_items, text, text_html, quorum_required, members_present, quorum_reached, content_hash, approved_at, approved_by_name, created_at, updated_at ON minutes WHEN OLD.status = 'approved' BEGIN SELECT RAISE(ABORT, 'approved minutes are immutable'); END",
        "CREATE TRIGGER minutes_immutable_delete BEFORE DELETE ON minutes WHEN OLD.status = 'approved' BEGIN SELECT RAISE(ABORT, 'approved minutes are immutable'); END",
        "CREATE TRIGGER minutes_attendance_immutable_insert BEFORE INSERT ON minutes_attendance WHEN (SELECT status FROM minutes WHERE id = NEW.minutes_id) = 'approved' BEGIN SELECT RAISE(ABORT, 'approved minutes are immutable'); END",
        "CREATE TRIGGER minutes_attendance_immutable_update BEFORE UPDATE OF id, minutes_id, kind, organisation_name, category, attended_as, name, role ON minutes_attendance WHEN (SELECT status FROM minutes WHERE id = OLD.minutes_id) = 'approved' OR (SELECT status FROM minutes WHERE id = NEW.minutes_id) = 'approved' BEGIN SELECT RAISE(ABORT, 'approved minutes are immutable'); END",
        "CREATE TRIGGER minutes_attendance_immutable_delete BEFORE DELETE ON minutes_attendance WHEN (SELECT status FROM minutes WHERE id = OLD.minutes_id) = 'approved' BEGIN SELECT RAISE(ABORT, 'approved minutes are immutable'); END",
        "CREATE TRIGGER minutes_decision_immutable_insert BEFORE INSERT ON minutes_decision WHEN (SELECT status FROM minutes WHERE id = NEW.minutes_id) = 'approved' BEGIN SELECT RAISE(ABORT, 'approved minutes are immutable'); END",
        "CREATE TRIGGER minutes_decision_immutable_update BEFORE UPDATE OF id, minutes_id, proposal_id, objective_id, subject_title, outcome, method, votes_for, votes_against, votes_abstained, motivation, motivation_html ON minutes_decision WHEN (SELECT status FROM minutes WHERE id = OLD.minutes_id) = 'approved' OR (SELECT status FROM minutes WHERE id = NEW.minutes_id) = 'approved' BEGIN SELECT RAISE(ABORT, 'approved minutes are immutable'); END",
        "CREATE TRIGGER minutes_decision_immutable_delete BEFORE DELETE ON minutes_decision WHEN (SELECT status FROM minutes WHERE id = OLD.minutes_id) = 'approved' BEGIN SELECT RAISE(ABORT, 'approved minutes are immutable'); END",
        "CREATE TRIGGER minutes_dissent_immutable_insert BEFORE INSERT ON minutes_dissent WHEN (SELECT m.status FROM minutes m JOIN minutes_decision d ON d.minutes_id = m.id WHERE d.id = NEW.decision_id) = 'approved' BEGIN SELECT RAISE(ABORT, 'approved minutes are immutable'); END",
        "CREATE TRIGGER minutes_dissent_immutable_update BEFORE UPDATE OF id, decision_id, organisation_name, category, text ON minutes_dissent WHEN (SELECT m.status FROM minutes m JOIN minutes_decision d ON d.minutes_id = m.id WHERE d.id = OLD.decision_id) = 'approved' OR (SELECT m.status FROM minutes m JOIN minutes_decision d ON d.minutes_id = m.id WHERE d.id = NEW.decision_id) = 'approved' BEGIN SELECT RAISE(ABORT, 'approved minutes are immutable'); END",
        "CREATE TRIGGER minutes_dissent_immutable_delete BEFORE DELETE ON minutes_dissent WHEN (SELECT m.status FROM minutes m JOIN minutes_decision d ON d.minutes_id = m.id WHERE d.id = OLD.decision_id) = 'approved' BEGIN SELECT RAISE(ABORT, 'approved minutes are immutable'); END",
    ],
    'postgresql': [
        "CREATE OR REPLACE FUNCTION minutes_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n    IF OLD.status = 'approved' THEN\n        RAISE EXCEPTION 'approved minutes are immutable' USING ERRCODE = 'restrict_violation';\n    END IF;\n    IF TG_OP = 'DELETE' THEN\n        RETURN OLD;\n    END IF;\n    RETURN NEW;\nEND;\n$$",
        "CREATE OR REPLACE FUNCTION minutes_part_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$\nDECLARE\n    parent_ids integer[] := ARRAY[]::integer[];\n    parent_status text;\n    row_data jsonb;\nBEGIN\n    IF TG_OP <> 'INSERT' THEN\n        row_data := to_jsonb(OLD);\n        parent_ids := parent_ids || (row_data ->> TG_ARGV[0])::integer;\n    END IF;\n    IF TG_OP <> 'DELETE' THEN\n        row_data := to_jsonb(NEW);\n        parent_ids := parent_ids || (row_data ->> TG_ARGV[0])::integer;\n    END IF;\n    IF TG_ARGV[0] = 'decision_id' THEN\n        SELECT m.status INTO parent_status FROM minutes m JOIN minutes_decision d ON d.minutes_id = m.id\n        WHERE d.id = ANY(parent_ids) AND m.status = 'approved' LIMIT 1;\n    ELSE\n        SELECT status INTO parent_status FROM minutes WHERE id = ANY(parent_ids) AND status = 'approved' LIMIT 1;\n    END IF;\n    IF parent_status = 'approved' THEN\n        RAISE EXCEPTION 'approved minutes are immutable' USING ERRCODE = 'restrict_violation';\n    END IF;\n    IF TG_OP = 'DELETE' THEN\n        RETURN OLD;\n    END IF;\n    RETURN NEW;\nEND;\n$$",
        'CREATE TRIGGER minutes_immutable BEFORE UPDATE OF id, meeting_id, tavolo_id, corrects_id, status, agenda_items, text, text_html, quorum_required, members_present, quorum_reached, content_hash, approved_at, approved_by_name, created_at, updated_at OR DELETE ON minutes FOR EACH ROW EXECUTE FUNCTION minutes_refuse_change()',
        "CREATE TRIGGER minutes_attendance_immutable BEFORE INSERT OR UPDATE OF id, minutes_id, kind, organisation_name, category, attended_as, name, role OR DELETE ON minutes_attendance FOR EACH ROW EXECUTE FUNCTION minutes_part_refuse_change('minutes_id')",
        "CREATE TRIGGER minutes_decision_immutable BEFORE INSERT OR UPDATE OF id, minutes_id, proposal_id, objective_id, subject_title, outcome, method, votes_for, votes_against, votes_abstained, motivation, motivation_html OR DELETE ON minutes_decision FOR EACH ROW EXECUTE FUNCTION minutes_part_refuse_change('minutes_id')",
        "CREATE TRIGGER minutes_dissent_immutable BEFORE INSERT OR UPDATE OF id, decision_id, organisation_name, category, text OR DELETE ON minutes_dissent FOR EACH ROW EXECUTE FUNCTION minutes_part_refuse_change('decision_id')",
    ],
}
DROPS = {
    'sqlite': [('minutes_immutable_update', 'minutes'), ('minutes_immutable_delete', 'minutes'), ('minutes_attendance_immutable_insert', 'minutes_attendance'), ('minutes_attendance_immutable_update', 'minutes_attendance'), ('minutes_attendance_immutable_delete', 'minutes_attendance'), ('minutes_decision_immutable_insert', 'minutes_decision'), ('minutes_decision_immutable_update', 'minutes_decision'), ('minutes_decision_immutable_delete', 'minutes_decision'), ('minutes_dissent_immutable_insert', 'minutes_dissent'), ('minutes_dissent_immutable_update', 'minutes_dissent'), ('minutes_dissent_immutable_delete', 'minutes_dissent')],
    'postgresql': [('minutes_immutable', 'minutes'), ('minutes_attendance_immutable', 'minutes_attendance'), ('minutes_decision_immutable', 'minutes_decision'), ('minutes_dissent_immutable', 'minutes_dissent')],
}


def upgrade():
    # ### commands auto generated by Alembic - please adjust! ###
    op.create_table('plan_area',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('description_html', sa.Text(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('length(title) > 0', name=op.f('ck_plan_area_title_not_empty')),
    sa.ForeignKeyConstraint(['plan_id'], ['plan.id'], name=op.f('fk_plan_area_plan_id_plan'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_area')),
    sa.UniqueConstraint('id', 'plan_id', name='uq_plan_area_id_plan')
    )
    with op.batch_alter_table('plan_area', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plan_area_plan_id'), ['plan_id'], unique=False)

    op.create_table('meeting',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tavolo_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('place', sa.String(length=300), nullable=True),
    sa.Column('online_url', sa.String(length=500), nullable=True),
    sa.Column('agenda', sa.Text(), nullable=False),
    sa.Column('agenda_html', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=9), server_default='scheduled', nullable=False),
    sa.Column('cancel_reason', sa.String(length=1000), nullable=True),
    sa.Column('sequence', sa.Integer(), server_default='0', nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("online_url IS NULL OR substr(online_url, 1, 7) = 'http://' OR substr(online_url, 1, 8) = 'https://'", name=op.f('ck_meeting_online_url_http')),
    sa.CheckConstraint("status != 'cancelled' OR cancel_reason IS NOT NULL", name=op.f('ck_meeting_cancelled_has_reason')),
    sa.CheckConstraint("status IN ('scheduled', 'held', 'cancelled')", name=op.f('ck_meeting_status_valid')),
    sa.CheckConstraint('ends_at IS NULL OR ends_at > starts_at', name=op.f('ck_meeting_ends_after_start')),
    sa.CheckConstraint('place IS NOT NULL OR online_url IS NOT NULL', name=op.f('ck_meeting_has_place_or_link')),
    sa.CheckConstraint('sequence >= 0', name=op.f('ck_meeting_sequence_not_negative')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_meeting_created_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tavolo_id'], ['tavolo.id'], name=op.f('fk_meeting_tavolo_id_tavolo'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meeting')),
    sa.UniqueConstraint('id', 'tavolo_id', name='uq_meeting_id_tavolo')
    )
    with op.batch_alter_table('meeting', schema=None) as batch_op:
        batch_op.create_index('ix_meeting_tavolo_starts', ['tavolo_id', 'starts_at'], unique=False)

    op.create_table('outbox_email',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('recipient_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=6), server_default='digest', nullable=False),
    sa.Column('period_key', sa.String(length=32), nullable=False),
    sa.Column('to_address', sa.String(length=254), nullable=False),
    sa.Column('locale', sa.String(length=5), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('body_text', sa.Text(), nullable=False),
    sa.Column('body_html', sa.Text(), nullable=False),
    sa.Column('headers', sa.JSON(), nullable=False),
    sa.Column('notification_count', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=9), server_default='pending', nullable=False),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('last_error', sa.String(length=1000), nullable=True),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('claimed_by', sa.String(length=120), nullable=True),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("(status = 'sent') = (sent_at IS NOT NULL)", name=op.f('ck_outbox_email_sent_has_date')),
    sa.CheckConstraint("kind IN ('digest')", name=op.f('ck_outbox_email_kind_valid')),
    sa.CheckConstraint("status != 'failed' OR last_error IS NOT NULL", name=op.f('ck_outbox_email_failed_has_error')),
    sa.CheckConstraint("status != 'sending' OR claimed_at IS NOT NULL", name=op.f('ck_outbox_email_sending_is_claimed')),
    sa.CheckConstraint("status IN ('pending', 'sending', 'sent', 'failed', 'cancelled')", name=op.f('ck_outbox_email_status_valid')),
    sa.CheckConstraint('attempts >= 0', name=op.f('ck_outbox_email_attempts_not_negative')),
    sa.ForeignKeyConstraint(['recipient_id'], ['user.id'], name=op.f('fk_outbox_email_recipient_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_email')),
    sa.UniqueConstraint('recipient_id', 'kind', 'period_key', name='uq_outbox_email_recipient_period')
    )
    with op.batch_alter_table('outbox_email', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbox_email_recipient_id'), ['recipient_id'], unique=False)
        batch_op.create_index('ix_outbox_email_status_due', ['status', 'next_attempt_at'], unique=False)

    op.create_table('plan_area_tavolo',
    sa.Column('area_id', sa.Integer(), nullable=False),
    sa.Column('tavolo_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['area_id'], ['plan_area.id'], name=op.f('fk_plan_area_tavolo_area_id_plan_area'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tavolo_id'], ['tavolo.id'], name=op.f('fk_plan_area_tavolo_tavolo_id_tavolo'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('area_id', 'tavolo_id', name=op.f('pk_plan_area_tavolo'))
    )
    op.create_table('plan_objective',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('area_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('description_html', sa.Text(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('length(title) > 0', name=op.f('ck_plan_objective_title_not_empty')),
    sa.ForeignKeyConstraint(['area_id', 'plan_id'], ['plan_area.id', 'plan_area.plan_id'], name='fk_plan_objective_area_plan', ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['plan_id'], ['plan.id'], name=op.f('fk_plan_objective_plan_id_plan'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_objective')),
    sa.UniqueConstraint('id', 'plan_id', name='uq_plan_objective_id_plan')
    )
    with op.batch_alter_table('plan_objective', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plan_objective_area_id'), ['area_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_plan_objective_plan_id'), ['plan_id'], unique=False)

    op.create_table('plan_revision_set',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=1000), nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('opened_by_id', sa.Integer(), nullable=True),
    sa.Column('opened_by_name', sa.String(length=120), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_by_name', sa.String(length=120), nullable=True),
    sa.Column('approval_reference', sa.String(length=200), nullable=True),
    sa.Column('approval_date', sa.Date(), nullable=True),
    sa.CheckConstraint('closed_at IS NULL OR closed_at >= opened_at', name=op.f('ck_plan_revision_set_closed_after_opened')),
    sa.CheckConstraint('length(reason) > 0', name=op.f('ck_plan_revision_set_reason_not_empty')),
    sa.CheckConstraint('number >= 1', name=op.f('ck_plan_revision_set_number_positive')),
    sa.ForeignKeyConstraint(['opened_by_id'], ['user.id'], name=op.f('fk_plan_revision_set_opened_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['plan_id'], ['plan.id'], name=op.f('fk_plan_revision_set_plan_id_plan'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_revision_set')),
    sa.UniqueConstraint('plan_id', 'number', name=op.f('uq_plan_revision_set_plan_id_number'))
    )
    with op.batch_alter_table('plan_revision_set', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plan_revision_set_plan_id'), ['plan_id'], unique=False)
        batch_op.create_index('uq_plan_revision_set_open', ['plan_id'], unique=True, sqlite_where=sa.text('closed_at IS NULL'), postgresql_where=sa.text('closed_at IS NULL'))

    op.create_table('meeting_objective',
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('objective_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['meeting_id'], ['meeting.id'], name=op.f('fk_meeting_objective_meeting_id_meeting'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['objective_id'], ['objective.id'], name=op.f('fk_meeting_objective_objective_id_objective'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('meeting_id', 'objective_id', name=op.f('pk_meeting_objective'))
    )
    op.create_table('minutes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('tavolo_id', sa.Integer(), nullable=False),
    sa.Column('corrects_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=8), server_default='draft', nullable=False),
    sa.Column('agenda_items', sa.Text(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('text_html', sa.Text(), nullable=False),
    sa.Column('quorum_required', sa.Integer(), nullable=True),
    sa.Column('members_present', sa.Integer(), server_default='0', nullable=False),
    sa.Column('quorum_reached', sa.Boolean(), nullable=True),
    sa.Column('content_hash', sa.String(length=64), nullable=True),
    sa.Column('approved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('approved_by_name', sa.String(length=120), nullable=True),
    sa.Column('approved_by_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status != 'approved' OR (content_hash IS NOT NULL AND approved_at IS NOT NULL AND approved_by_name IS NOT NULL)", name=op.f('ck_minutes_approved_is_sealed')),
    sa.CheckConstraint("status IN ('draft', 'approved')", name=op.f('ck_minutes_status_valid')),
    sa.CheckConstraint('content_hash IS NULL OR length(content_hash) = 64', name=op.f('ck_minutes_hash_is_sha256')),
    sa.CheckConstraint('corrects_id IS NULL OR corrects_id != id', name=op.f('ck_minutes_not_correcting_itself')),
    sa.CheckConstraint('members_present >= 0', name=op.f('ck_minutes_members_present_not_negative')),
    sa.ForeignKeyConstraint(['approved_by_id'], ['user.id'], name=op.f('fk_minutes_approved_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['corrects_id'], ['minutes.id'], name=op.f('fk_minutes_corrects_id_minutes')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_minutes_created_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['meeting_id', 'tavolo_id'], ['meeting.id', 'meeting.tavolo_id'], name='fk_minutes_meeting_tavolo', ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tavolo_id'], ['tavolo.id'], name=op.f('fk_minutes_tavolo_id_tavolo'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_minutes')),
    sa.UniqueConstraint('corrects_id', name=op.f('uq_minutes_corrects_id'))
    )
    with op.batch_alter_table('minutes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_minutes_meeting_id'), ['meeting_id'], unique=False)
        batch_op.create_index('ix_minutes_tavolo_status', ['tavolo_id', 'status'], unique=False)
        batch_op.create_index('uq_minutes_original_per_meeting', ['meeting_id'], unique=True, sqlite_where=sa.text('corrects_id IS NULL'), postgresql_where=sa.text('corrects_id IS NULL'))

    op.create_table('plan_action',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('objective_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('description_html', sa.Text(), nullable=False),
    sa.Column('beneficiaries', sa.String(length=1000), nullable=False),
    sa.Column('responsible_body', sa.String(length=200), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=True),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.Column('all_comuni', sa.Boolean(), server_default=sa.text('true'), nullable=False),
    sa.Column('status', sa.String(length=11), server_default='planned', nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('planned', 'in_progress', 'done', 'suspended', 'cancelled')", name=op.f('ck_plan_action_status_valid')),
    sa.CheckConstraint('end_date IS NULL OR start_date IS NULL OR end_date >= start_date', name=op.f('ck_plan_action_end_after_start')),
    sa.CheckConstraint('length(title) > 0', name=op.f('ck_plan_action_title_not_empty')),
    sa.ForeignKeyConstraint(['objective_id', 'plan_id'], ['plan_objective.id', 'plan_objective.plan_id'], name='fk_plan_action_objective_plan', ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['plan_id'], ['plan.id'], name=op.f('fk_plan_action_plan_id_plan'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_action')),
    sa.UniqueConstraint('id', 'plan_id', name='uq_plan_action_id_plan')
    )
    with op.batch_alter_table('plan_action', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plan_action_objective_id'), ['objective_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_plan_action_plan_id'), ['plan_id'], unique=False)

    op.create_table('plan_revision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=13), nullable=False),
    sa.Column('revision_set_id', sa.Integer(), nullable=True),
    sa.Column('batch', sa.String(length=32), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_name', sa.String(length=120), nullable=False),
    sa.Column('operation', sa.String(length=20), nullable=False),
    sa.Column('item_type', sa.String(length=20), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('item_label', sa.String(length=300), nullable=False),
    sa.Column('owner_type', sa.String(length=20), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('field', sa.String(length=40), nullable=True),
    sa.Column('old_value', sa.Text(), nullable=True),
    sa.Column('new_value', sa.Text(), nullable=True),
    sa.CheckConstraint("(kind = 'aggiornamento') = (revision_set_id IS NOT NULL)", name=op.f('ck_plan_revision_set_only_in_aggiornamento')),
    sa.CheckConstraint("kind IN ('drafting', 'aggiornamento', 'monitoring')", name=op.f('ck_plan_revision_kind_valid')),
    sa.ForeignKeyConstraint(['actor_id'], ['user.id'], name=op.f('fk_plan_revision_actor_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['plan_id'], ['plan.id'], name=op.f('fk_plan_revision_plan_id_plan'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['revision_set_id'], ['plan_revision_set.id'], name=op.f('fk_plan_revision_revision_set_id_plan_revision_set'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_revision'))
    )
    with op.batch_alter_table('plan_revision', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plan_revision_batch'), ['batch'], unique=False)
        batch_op.create_index('ix_plan_revision_owner', ['plan_id', 'owner_type', 'owner_id'], unique=False)
        batch_op.create_index('ix_plan_revision_plan_changed', ['plan_id', 'changed_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_plan_revision_revision_set_id'), ['revision_set_id'], unique=False)

    op.create_table('tavolo_member',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tavolo_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('delegate_id', sa.Integer(), nullable=True),
    sa.Column('substitute_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=9), server_default='requested', nullable=False),
    sa.Column('rejection_reason', sa.String(length=1000), nullable=True),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("status != 'accepted' OR decided_at IS NOT NULL", name=op.f('ck_tavolo_member_accepted_has_date')),
    sa.CheckConstraint("status != 'rejected' OR rejection_reason IS NOT NULL", name=op.f('ck_tavolo_member_rejected_has_reason')),
    sa.CheckConstraint("status IN ('requested', 'accepted', 'rejected', 'left')", name=op.f('ck_tavolo_member_status_valid')),
    sa.CheckConstraint('substitute_id IS NULL OR substitute_id != delegate_id', name=op.f('ck_tavolo_member_substitute_not_delegate')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['user.id'], name=op.f('fk_tavolo_member_decided_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['delegate_id'], ['user.id'], name=op.f('fk_tavolo_member_delegate_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_tavolo_member_organisation_id_organisation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['requested_by_id'], ['user.id'], name=op.f('fk_tavolo_member_requested_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['substitute_id'], ['user.id'], name=op.f('fk_tavolo_member_substitute_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tavolo_id'], ['tavolo.id'], name=op.f('fk_tavolo_member_tavolo_id_tavolo'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tavolo_member')),
    sa.UniqueConstraint('tavolo_id', 'organisation_id', name=op.f('uq_tavolo_member_tavolo_id_organisation_id'))
    )
    with op.batch_alter_table('tavolo_member', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tavolo_member_delegate_id'), ['delegate_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_tavolo_member_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_tavolo_member_substitute_id'), ['substitute_id'], unique=False)
        batch_op.create_index('ix_tavolo_member_tavolo_status', ['tavolo_id', 'status'], unique=False)

    op.create_table('meeting_proposal',
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['meeting_id'], ['meeting.id'], name=op.f('fk_meeting_proposal_meeting_id_meeting'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposal.id'], name=op.f('fk_meeting_proposal_proposal_id_proposal'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('meeting_id', 'proposal_id', name=op.f('pk_meeting_proposal'))
    )
    op.create_table('minutes_attendance',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('minutes_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=11), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=True),
    sa.Column('organisation_name', sa.String(length=200), nullable=True),
    sa.Column('category', sa.String(length=20), nullable=False),
    sa.Column('attended_as', sa.String(length=10), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('role', sa.String(length=120), nullable=True),
    sa.CheckConstraint("(kind = 'member') = (attended_as IS NOT NULL)", name=op.f('ck_minutes_attendance_member_attends_as')),
    sa.CheckConstraint("attended_as IS NULL OR attended_as IN ('delegate', 'substitute')", name=op.f('ck_minutes_attendance_attended_as_valid')),
    sa.CheckConstraint("kind != 'external' OR user_id IS NULL", name=op.f('ck_minutes_attendance_external_has_no_account')),
    sa.CheckConstraint("kind != 'member' OR organisation_name IS NOT NULL", name=op.f('ck_minutes_attendance_member_has_organisation')),
    sa.CheckConstraint("kind IN ('member', 'participant', 'external')", name=op.f('ck_minutes_attendance_kind_valid')),
    sa.CheckConstraint('length(name) > 0', name=op.f('ck_minutes_attendance_name_not_empty')),
    sa.ForeignKeyConstraint(['minutes_id'], ['minutes.id'], name=op.f('fk_minutes_attendance_minutes_id_minutes'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_minutes_attendance_organisation_id_organisation'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_minutes_attendance_user_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_minutes_attendance')),
    sa.UniqueConstraint('minutes_id', 'organisation_id', name='uq_minutes_attendance_organisation'),
    sa.UniqueConstraint('minutes_id', 'user_id', name='uq_minutes_attendance_user')
    )
    with op.batch_alter_table('minutes_attendance', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_minutes_attendance_minutes_id'), ['minutes_id'], unique=False)

    op.create_table('minutes_decision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('minutes_id', sa.Integer(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=True),
    sa.Column('objective_id', sa.Integer(), nullable=True),
    sa.Column('subject_title', sa.String(length=300), nullable=False),
    sa.Column('outcome', sa.String(length=18), nullable=False),
    sa.Column('method', sa.String(length=9), server_default='consensus', nullable=False),
    sa.Column('votes_for', sa.Integer(), nullable=True),
    sa.Column('votes_against', sa.Integer(), nullable=True),
    sa.Column('votes_abstained', sa.Integer(), nullable=True),
    sa.Column('motivation', sa.Text(), nullable=False),
    sa.Column('motivation_html', sa.Text(), nullable=False),
    sa.CheckConstraint("(method = 'consensus' AND votes_for IS NULL AND votes_against IS NULL AND votes_abstained IS NULL) OR (method = 'vote' AND votes_for IS NOT NULL AND votes_against IS NOT NULL AND votes_abstained IS NOT NULL AND votes_for >= 0 AND votes_against >= 0 AND votes_abstained >= 0)", name=op.f('ck_minutes_decision_counts_only_with_vote')),
    sa.CheckConstraint("method IN ('consensus', 'vote')", name=op.f('ck_minutes_decision_method_valid')),
    sa.CheckConstraint("objective_id IS NULL OR outcome != 'partially_approved'", name=op.f('ck_minutes_decision_objective_not_partial')),
    sa.CheckConstraint("outcome IN ('approved', 'partially_approved', 'rejected', 'deferred')", name=op.f('ck_minutes_decision_outcome_valid')),
    sa.CheckConstraint('(proposal_id IS NULL) != (objective_id IS NULL)', name=op.f('ck_minutes_decision_one_subject')),
    sa.CheckConstraint('length(motivation) > 0', name=op.f('ck_minutes_decision_motivation_required')),
    sa.ForeignKeyConstraint(['minutes_id'], ['minutes.id'], name=op.f('fk_minutes_decision_minutes_id_minutes'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['objective_id'], ['objective.id'], name=op.f('fk_minutes_decision_objective_id_objective')),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposal.id'], name=op.f('fk_minutes_decision_proposal_id_proposal')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_minutes_decision')),
    sa.UniqueConstraint('minutes_id', 'objective_id', name='uq_minutes_decision_objective'),
    sa.UniqueConstraint('minutes_id', 'proposal_id', name='uq_minutes_decision_proposal')
    )
    with op.batch_alter_table('minutes_decision', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_minutes_decision_minutes_id'), ['minutes_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_minutes_decision_objective_id'), ['objective_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_minutes_decision_proposal_id'), ['proposal_id'], unique=False)

    op.create_table('plan_action_comune',
    sa.Column('action_id', sa.Integer(), nullable=False),
    sa.Column('comune_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['action_id'], ['plan_action.id'], name=op.f('fk_plan_action_comune_action_id_plan_action'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['comune_id'], ['comune.id'], name=op.f('fk_plan_action_comune_comune_id_comune'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('action_id', 'comune_id', name=op.f('pk_plan_action_comune'))
    )
    op.create_table('plan_budget_line',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('action_id', sa.Integer(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('funding_source', sa.String(length=17), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('note', sa.String(length=300), nullable=False),
    sa.CheckConstraint("funding_source IN ('fnps', 'fna', 'fondo_poverta', 'comunali', 'compartecipazione', 'fse_plus', 'pnrr', 'altro')", name=op.f('ck_plan_budget_line_funding_source_valid')),
    sa.CheckConstraint('amount > 0', name=op.f('ck_plan_budget_line_amount_positive')),
    sa.CheckConstraint('year BETWEEN 2000 AND 2100', name=op.f('ck_plan_budget_line_year_range')),
    sa.ForeignKeyConstraint(['action_id', 'plan_id'], ['plan_action.id', 'plan_action.plan_id'], name='fk_plan_budget_line_action_plan', ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['plan_id'], ['plan.id'], name=op.f('fk_plan_budget_line_plan_id_plan'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_budget_line'))
    )
    with op.batch_alter_table('plan_budget_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plan_budget_line_action_id'), ['action_id'], unique=False)
        batch_op.create_index('ix_plan_budget_line_plan_year', ['plan_id', 'year'], unique=False)

    op.create_table('plan_indicator',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('action_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('unit', sa.String(length=40), nullable=False),
    sa.Column('baseline', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('target', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.CheckConstraint('baseline IS NULL OR baseline >= 0', name=op.f('ck_plan_indicator_baseline_not_negative')),
    sa.CheckConstraint('length(name) > 0', name=op.f('ck_plan_indicator_name_not_empty')),
    sa.CheckConstraint('target >= 0', name=op.f('ck_plan_indicator_target_not_negative')),
    sa.ForeignKeyConstraint(['action_id', 'plan_id'], ['plan_action.id', 'plan_action.plan_id'], name='fk_plan_indicator_action_plan', ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['plan_id'], ['plan.id'], name=op.f('fk_plan_indicator_plan_id_plan'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_indicator'))
    )
    with op.batch_alter_table('plan_indicator', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plan_indicator_action_id'), ['action_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_plan_indicator_plan_id'), ['plan_id'], unique=False)

    op.create_table('plan_progress_update',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('action_id', sa.Integer(), nullable=False),
    sa.Column('reported_on', sa.Date(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('text_html', sa.Text(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('author_name', sa.String(length=120), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('length(text) > 0', name=op.f('ck_plan_progress_update_text_not_empty')),
    sa.ForeignKeyConstraint(['action_id', 'plan_id'], ['plan_action.id', 'plan_action.plan_id'], name='fk_plan_progress_update_action_plan', ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['author_id'], ['user.id'], name=op.f('fk_plan_progress_update_author_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['plan_id'], ['plan.id'], name=op.f('fk_plan_progress_update_plan_id_plan'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_progress_update'))
    )
    with op.batch_alter_table('plan_progress_update', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plan_progress_update_action_id'), ['action_id'], unique=False)

    op.create_table('flag',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tavolo_id', sa.Integer(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=True),
    sa.Column('comment_id', sa.Integer(), nullable=True),
    sa.Column('reporter_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=13), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolved_by_id', sa.Integer(), nullable=True),
    sa.Column('resolution', sa.String(length=9), nullable=True),
    sa.CheckConstraint("reason != 'other' OR note IS NOT NULL", name=op.f('ck_flag_other_has_note')),
    sa.CheckConstraint("reason IN ('off_topic', 'offensive', 'spam', 'personal_data', 'duplicate', 'other')", name=op.f('ck_flag_reason_valid')),
    sa.CheckConstraint("resolution IN ('upheld', 'dismissed')", name=op.f('ck_flag_resolution_valid')),
    sa.CheckConstraint('(proposal_id IS NULL) != (comment_id IS NULL)', name=op.f('ck_flag_one_subject')),
    sa.CheckConstraint('(resolved_at IS NULL) = (resolution IS NULL)', name=op.f('ck_flag_resolved_has_resolution')),
    sa.ForeignKeyConstraint(['comment_id'], ['comment.id'], name=op.f('fk_flag_comment_id_comment'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposal.id'], name=op.f('fk_flag_proposal_id_proposal'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reporter_id'], ['user.id'], name=op.f('fk_flag_reporter_id_user'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['resolved_by_id'], ['user.id'], name=op.f('fk_flag_resolved_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tavolo_id'], ['tavolo.id'], name=op.f('fk_flag_tavolo_id_tavolo'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_flag')),
    sa.UniqueConstraint('reporter_id', 'comment_id', name='uq_flag_reporter_comment'),
    sa.UniqueConstraint('reporter_id', 'proposal_id', name='uq_flag_reporter_proposal')
    )
    with op.batch_alter_table('flag', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_flag_comment_id'), ['comment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_flag_proposal_id'), ['proposal_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_flag_reporter_id'), ['reporter_id'], unique=False)
        batch_op.create_index('ix_flag_tavolo_open', ['tavolo_id', 'resolved_at'], unique=False)

    op.create_table('minutes_dissent',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('decision_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=True),
    sa.Column('organisation_name', sa.String(length=200), nullable=False),
    sa.Column('category', sa.String(length=20), nullable=False),
    sa.Column('text', sa.String(length=2000), nullable=False),
    sa.CheckConstraint('length(text) > 0', name=op.f('ck_minutes_dissent_text_not_empty')),
    sa.ForeignKeyConstraint(['decision_id'], ['minutes_decision.id'], name=op.f('fk_minutes_dissent_decision_id_minutes_decision'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_minutes_dissent_organisation_id_organisation'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_minutes_dissent')),
    sa.UniqueConstraint('decision_id', 'organisation_id', name='uq_minutes_dissent_organisation')
    )
    with op.batch_alter_table('minutes_dissent', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_minutes_dissent_decision_id'), ['decision_id'], unique=False)

    op.create_table('plan_indicator_value',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('update_id', sa.Integer(), nullable=False),
    sa.Column('indicator_id', sa.Integer(), nullable=False),
    sa.Column('value', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.CheckConstraint('value >= 0', name=op.f('ck_plan_indicator_value_value_not_negative')),
    sa.ForeignKeyConstraint(['indicator_id'], ['plan_indicator.id'], name=op.f('fk_plan_indicator_value_indicator_id_plan_indicator'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['update_id'], ['plan_progress_update.id'], name=op.f('fk_plan_indicator_value_update_id_plan_progress_update'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_indicator_value')),
    sa.UniqueConstraint('update_id', 'indicator_id', name=op.f('uq_plan_indicator_value_update_id_indicator_id'))
    )
    with op.batch_alter_table('plan_indicator_value', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plan_indicator_value_indicator_id'), ['indicator_id'], unique=False)

    op.create_table('plan_input',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('plan_objective_id', sa.Integer(), nullable=True),
    sa.Column('plan_action_id', sa.Integer(), nullable=True),
    sa.Column('decision_id', sa.Integer(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=True),
    sa.Column('objective_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('(plan_objective_id IS NULL) != (plan_action_id IS NULL)', name=op.f('ck_plan_input_one_target')),
    sa.CheckConstraint('(proposal_id IS NULL) != (objective_id IS NULL)', name=op.f('ck_plan_input_one_subject')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_plan_input_created_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['decision_id'], ['minutes_decision.id'], name=op.f('fk_plan_input_decision_id_minutes_decision'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['objective_id'], ['objective.id'], name=op.f('fk_plan_input_objective_id_objective'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['plan_action_id', 'plan_id'], ['plan_action.id', 'plan_action.plan_id'], name='fk_plan_input_action_plan', ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['plan_id'], ['plan.id'], name=op.f('fk_plan_input_plan_id_plan'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['plan_objective_id', 'plan_id'], ['plan_objective.id', 'plan_objective.plan_id'], name='fk_plan_input_objective_plan', ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposal.id'], name=op.f('fk_plan_input_proposal_id_proposal'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_input')),
    sa.UniqueConstraint('decision_id', 'plan_action_id', name='uq_plan_input_decision_action'),
    sa.UniqueConstraint('decision_id', 'plan_objective_id', name='uq_plan_input_decision_objective')
    )
    with op.batch_alter_table('plan_input', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plan_input_decision_id'), ['decision_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_plan_input_objective_id'), ['objective_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_plan_input_plan_action_id'), ['plan_action_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_plan_input_plan_id'), ['plan_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_plan_input_plan_objective_id'), ['plan_objective_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_plan_input_proposal_id'), ['proposal_id'], unique=False)

    with op.batch_alter_table('comment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('hidden_by_flags', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.create_check_constraint('flag_hide_is_hidden', "NOT hidden_by_flags OR visibility = 'hidden'")

    with op.batch_alter_table('proposal', schema=None) as batch_op:
        batch_op.add_column(sa.Column('hidden_by_flags', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.create_check_constraint('flag_hide_is_hidden', "NOT hidden_by_flags OR visibility = 'hidden'")
        batch_op.create_check_constraint(
            'offline_has_author',
            "author_id IS NOT NULL OR author_name IS NOT NULL OR organisation_id IS NOT NULL OR channel = 'online'")
        batch_op.drop_constraint(batch_op.f('fk_proposal_merged_into_id_proposal'), type_='foreignkey')
        batch_op.create_foreign_key(batch_op.f('fk_proposal_merged_into_id_proposal'), 'proposal', ['merged_into_id'], ['id'], ondelete='CASCADE')

    # ### end Alembic commands ###

    # Approved minutes are immutable at the database level too (docs/minutes-hash.md, section 6).
    for statement in TRIGGERS[op.get_bind().dialect.name]:
        op.execute(statement)


def downgrade():
    dialect = op.get_bind().dialect.name
    for trigger, table in DROPS[dialect]:
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}" + (f" ON {table}" if dialect == "postgresql" else ""))
    if dialect == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS minutes_part_refuse_change()")
        op.execute("DROP FUNCTION IF EXISTS minutes_refuse_change()")

    # ### commands auto generated by Alembic - please adjust! ###
    with op.batch_alter_table('proposal', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_proposal_merged_into_id_proposal'), type_='foreignkey')
        batch_op.create_foreign_key(batch_op.f('fk_proposal_merged_into_id_proposal'), 'proposal', ['merged_into_id'], ['id'], ondelete='SET NULL')
        batch_op.drop_constraint('offline_has_author', type_='check')
        batch_op.drop_constraint('flag_hide_is_hidden', type_='check')
        batch_op.drop_column('hidden_by_flags')

    with op.batch_alter_table('comment', schema=None) as batch_op:
        batch_op.drop_constraint('flag_hide_is_hidden', type_='check')
        batch_op.drop_column('hidden_by_flags')

    with op.batch_alter_table('plan_input', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_plan_input_proposal_id'))
        batch_op.drop_index(batch_op.f('ix_plan_input_plan_objective_id'))
        batch_op.drop_index(batch_op.f('ix_plan_input_plan_id'))
        batch_op.drop_index(batch_op.f('ix_plan_input_plan_action_id'))
        batch_op.drop_index(batch_op.f('ix_plan_input_objective_id'))
        batch_op.drop_index(batch_op.f('ix_plan_input_decision_id'))

    op.drop_table('plan_input')
    with op.batch_alter_table('plan_indicator_value', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_plan_indicator_value_indicator_id'))

    op.drop_table('plan_indicator_value')
    with op.batch_alter_table('minutes_dissent', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_minutes_dissent_decision_id'))

    op.drop_table('minutes_dissent')
    with op.batch_alter_table('flag', schema=None) as batch_op:
        batch_op.drop_index('ix_flag_tavolo_open')
        batch_op.drop_index(batch_op.f('ix_flag_reporter_id'))
        batch_op.drop_index(batch_op.f('ix_flag_proposal_id'))
        batch_op.drop_index(batch_op.f('ix_flag_comment_id'))

    op.drop_table('flag')
    with op.batch_alter_table('plan_progress_update', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_plan_progress_update_action_id'))

    op.drop_table('plan_progress_update')
    with op.batch_alter_table('plan_indicator', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_plan_indicator_plan_id'))
        batch_op.drop_index(batch_op.f('ix_plan_indicator_action_id'))

    op.drop_table('plan_indicator')
    with op.batch_alter_table('plan_budget_line', schema=None) as batch_op:
        batch_op.drop_index('ix_plan_budget_line_plan_year')
        batch_op.drop_index(batch_op.f('ix_plan_budget_line_action_id'))

    op.drop_table('plan_budget_line')
    op.drop_table('plan_action_comune')
    with op.batch_alter_table('minutes_decision', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_minutes_decision_proposal_id'))
        batch_op.drop_index(batch_op.f('ix_minutes_decision_objective_id'))
        batch_op.drop_index(batch_op.f('ix_minutes_decision_minutes_id'))

    op.drop_table('minutes_decision')
    with op.batch_alter_table('minutes_attendance', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_minutes_attendance_minutes_id'))

    op.drop_table('minutes_attendance')
    op.drop_table('meeting_proposal')
    with op.batch_alter_table('tavolo_member', schema=None) as batch_op:
        batch_op.drop_index('ix_tavolo_member_tavolo_status')
        batch_op.drop_index(batch_op.f('ix_tavolo_member_substitute_id'))
        batch_op.drop_index(batch_op.f('ix_tavolo_member_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_tavolo_member_delegate_id'))

    op.drop_table('tavolo_member')
    with op.batch_alter_table('plan_revision', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_plan_revision_revision_set_id'))
        batch_op.drop_index('ix_plan_revision_plan_changed')
        batch_op.drop_index('ix_plan_revision_owner')
        batch_op.drop_index(batch_op.f('ix_plan_revision_batch'))

    op.drop_table('plan_revision')
    with op.batch_alter_table('plan_action', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_plan_action_plan_id'))
        batch_op.drop_index(batch_op.f('ix_plan_action_objective_id'))

    op.drop_table('plan_action')
    with op.batch_alter_table('minutes', schema=None) as batch_op:
        batch_op.drop_index('uq_minutes_original_per_meeting', sqlite_where=sa.text('corrects_id IS NULL'), postgresql_where=sa.text('corrects_id IS NULL'))
        batch_op.drop_index('ix_minutes_tavolo_status')
        batch_op.drop_index(batch_op.f('ix_minutes_meeting_id'))

    op.drop_table('minutes')
    op.drop_table('meeting_objective')
    with op.batch_alter_table('plan_revision_set', schema=None) as batch_op:
        batch_op.drop_index('uq_plan_revision_set_open', sqlite_where=sa.text('closed_at IS NULL'), postgresql_where=sa.text('closed_at IS NULL'))
        batch_op.drop_index(batch_op.f('ix_plan_revision_set_plan_id'))

    op.drop_table('plan_revision_set')
    with op.batch_alter_table('plan_objective', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_plan_objective_plan_id'))
        batch_op.drop_index(batch_op.f('ix_plan_objective_area_id'))

    op.drop_table('plan_objective')
    op.drop_table('plan_area_tavolo')
    with op.batch_alter_table('outbox_email', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_email_status_due')
        batch_op.drop_index(batch_op.f('ix_outbox_email_recipient_id'))

    op.drop_table('outbox_email')
    with op.batch_alter_table('meeting', schema=None) as batch_op:
        batch_op.drop_index('ix_meeting_tavolo_starts')

    op.drop_table('meeting')
    with op.batch_alter_table('plan_area', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_plan_area_plan_id'))

    op.drop_table('plan_area')
    # ### end Alembic commands ###
