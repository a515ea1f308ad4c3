"""Forms of the meetings domain, with Italian messages for every refusal.

Lengths match the model columns; times are typed in Italian local time
(Europe/Rome) and turned into UTC here.
"""

from __future__ import annotations

from datetime import UTC, datetime, time
from urllib.parse import urlsplit

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    HiddenField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Optional, ValidationError

from consulta.core.db import utcnow
from consulta.core.forms import (
    ChoiceRadioField,
    FlaskForm,
    ItalianDateField,
    ItalianIntegerField,
    ItalianTimeField,
    max_length,
    plain,
    plain_multiline,
    required,
    rome,
)
from consulta.core.input_guard import parse_id
from consulta.meetings.models import OBJECTIVE_OUTCOMES, outcome_contradicts_counts, votes_cast

TITLE_MAX = 200
PLACE_MAX = 300
URL_MAX = 500
AGENDA_MAX = 20_000
REASON_MAX = 1000
AGENDA_ITEMS_MAX = 5_000
MINUTES_TEXT_MAX = 100_000
NAME_MAX = 120
ROLE_MAX = 120
EMAIL_MAX = 254
MOTIVATION_MAX = 10_000
DISSENT_MAX = 2000
VOTES_MAX = 100_000


class ActionForm(FlaskForm):
    """Only the CSRF token: for buttons that need no input."""


def local_to_utc(day, at: time) -> datetime:
    """A date and time in Italian local time as an aware UTC datetime.

    Raises ValueError for a time that does not exist in Italy (the hour skipped
    when summer time starts).
    """
    zone = rome()
    local = datetime.combine(day, at).replace(tzinfo=zone)
    moment = local.astimezone(UTC)
    if moment.astimezone(zone).replace(tzinfo=None) != local.replace(tzinfo=None):
        raise ValueError(_l("Quest'ora non esiste in Italia per il passaggio all'ora legale: scegline un'altra."))
    return moment


def utc_to_local(moment: datetime) -> datetime:
    return moment.astimezone(rome())


# =========================================================================== membership

class MemberRequestForm(FlaskForm):
    delegate = SelectField(_l("Delegato/a"), coerce=int, validate_choice=False,
                           description=_l("Chi rappresenta l'organizzazione agli incontri e riceve le convocazioni."))
    substitute = SelectField(_l("Sostituto/a (facoltativo)"), validate_choice=False,
                             description=_l("Partecipa al posto del delegato quando è assente; riceve anch'esso "
                                            "le convocazioni."))

    def __init__(self, people, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.people = {p.id: p for p in people}
        self.delegate.choices = [SelectChoice(p.id, p.display_name) for p in people]
        self.substitute.choices = [SelectChoice("", _l("Nessuno")),
                                   *[SelectChoice(str(p.id), p.display_name) for p in people]]

    def validate_delegate(self, field):
        if field.data not in self.people:
            raise ValidationError(_l("Scegli come delegato una persona attiva della tua organizzazione."))

    def validate_substitute(self, field):
        if not field.data:
            return
        try:
            person_id = int(field.data)
        except (TypeError, ValueError):
            raise ValidationError(_l("Scegli come sostituto una persona attiva della tua organizzazione.")) from None
        if person_id not in self.people:
            raise ValidationError(_l("Scegli come sostituto una persona attiva della tua organizzazione."))
        if person_id == self.delegate.data:
            raise ValidationError(_l("Il sostituto deve essere una persona diversa dal delegato."))

    @property
    def delegate_user(self):
        return self.people.get(self.delegate.data)

    @property
    def substitute_user(self):
        return self.people.get(int(self.substitute.data)) if self.substitute.data else None


class ReasonForm(FlaskForm):
    reason = TextAreaField(_l("Motivo"), filters=[plain_multiline],
                           validators=[required(_l("Indica il motivo.")), max_length(REASON_MAX)])


class RejectMemberForm(ReasonForm):
    reason = TextAreaField(_l("Motivo del mancato accoglimento"), filters=[plain_multiline],
                           validators=[required(_l("Indica il motivo.")), max_length(REASON_MAX)])


class CancelMeetingForm(ReasonForm):
    reason = TextAreaField(_l("Motivo dell'annullamento"), filters=[plain_multiline],
                           validators=[required(_l("Indica il motivo.")), max_length(REASON_MAX)])


class OptionalReasonForm(FlaskForm):
    reason = TextAreaField(_l("Motivo (facoltativo)"), filters=[plain_multiline],
                           validators=[Optional(), max_length(REASON_MAX)])


# =========================================================================== meetings

class MeetingForm(FlaskForm):
    title = StringField(_l("Titolo dell'incontro"), filters=[plain],
                        validators=[required(), max_length(TITLE_MAX)],
                        description=_l("Per esempio: Primo incontro di concertazione."))
    day = ItalianDateField(_l("Giorno"), validators=[required(_l("Indica il giorno dell'incontro."))],
                           description=_l("Formato gg/mm/aaaa."))
    start_time = ItalianTimeField(_l("Ora di inizio"), validators=[required(_l("Indica l'ora di inizio."))],
                                  description=_l("Ora italiana, per esempio 17:30."))
    end_time = ItalianTimeField(_l("Ora di fine (facoltativa)"), validators=[Optional()])
    place = StringField(_l("Luogo"), filters=[plain], validators=[Optional(), max_length(PLACE_MAX)],
                        description=_l("Indirizzo e sala, se l'incontro è in presenza."))
    online_url = StringField(_l("Collegamento online"), filters=[plain],
                             validators=[Optional(), max_length(URL_MAX)],
                             description=_l("Indirizzo http:// o https:// della riunione online, se c'è."))
    agenda = TextAreaField(_l("Ordine del giorno"), filters=[plain_multiline],
                           validators=[Optional(), max_length(AGENDA_MAX)],
                           description=_l("Un punto per riga; puoi usare Markdown (elenchi, **grassetto**, link)."))

    def __init__(self, *args, proposals=(), objectives=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.proposal_choices = list(proposals)
        self.objective_choices = list(objectives)
        self.picked_proposals: list = []
        self.picked_objectives: list = []
        self.subject_errors: list[str] = []

    # --- linked proposals and objectives (checkbox lists, read from the raw form) ---
    def read_subjects(self, formdata) -> None:
        self.picked_proposals = self._picked(formdata.getlist("proposals"), self.proposal_choices)
        self.picked_objectives = self._picked(formdata.getlist("objectives"), self.objective_choices)

    def _picked(self, raw_ids, choices):
        allowed = {c.id: c for c in choices}
        picked = []
        for raw in raw_ids:
            try:
                key = int(raw)
            except ValueError:
                key = None
            if key not in allowed:
                self.subject_errors.append(str(_l("Si possono collegare solo proposte e obiettivi di questo "
                                                  "tavolo.")))
                continue
            picked.append(allowed[key])
        return picked

    def validate_online_url(self, field):
        if not field.data:
            return
        parts = urlsplit(field.data)
        if parts.scheme not in ("http", "https") or not parts.netloc or any(c.isspace() for c in field.data):
            raise ValidationError(_l("Il collegamento deve essere un indirizzo completo che inizia con http:// "
                                     "o https://."))

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if self.subject_errors:
            self.form_errors.extend(dict.fromkeys(self.subject_errors))
            ok = False
        if not self.place.data and not self.online_url.data and not self.place.errors:
            self.place.errors = [*self.place.errors,
                                 str(_l("Indica il luogo dell'incontro o il collegamento online (o entrambi)."))]
            ok = False
        if self.day.data and self.start_time.data and not self.day.errors and not self.start_time.errors:
            try:
                self.starts_at = local_to_utc(self.day.data, self.start_time.data)
            except ValueError as problem:
                self.start_time.errors = [*self.start_time.errors, str(problem.args[0])]
                return False
            if self.end_time.data and not self.end_time.errors:
                try:
                    self.ends_at = local_to_utc(self.day.data, self.end_time.data)
                except ValueError as problem:
                    self.end_time.errors = [*self.end_time.errors, str(problem.args[0])]
                    return False
                if self.ends_at <= self.starts_at:
                    self.end_time.errors = [*self.end_time.errors,
                                            str(_l("L'ora di fine deve venire dopo l'ora di inizio."))]
                    return False
            if self.must_be_future and self.starts_at <= utcnow():
                self.day.errors = [*self.day.errors, str(_l("La data e l'ora indicate sono già passate: "
                                                            "un incontro si convoca per un momento futuro."))]
                return False
        return ok

    starts_at: datetime | None = None
    ends_at: datetime | None = None
    must_be_future = True

    def fill_from(self, meeting) -> None:
        local = utc_to_local(meeting.starts_at)
        self.day.data = local.date()
        self.start_time.data = local.time().replace(second=0, microsecond=0)
        if meeting.ends_at is not None:
            self.end_time.data = utc_to_local(meeting.ends_at).time().replace(second=0, microsecond=0)
        self.picked_proposals = list(meeting.proposals)
        self.picked_objectives = list(meeting.objectives)


# =========================================================================== minutes


class HeldMeetingForm(MeetingForm):
    """A meeting that already took place: its date lies in the past (the operation checks it)."""

    must_be_future = False

class StartMinutesForm(FlaskForm):
    meeting_id = HiddenField()

    def meeting_key(self) -> int | None:
        return parse_id(self.meeting_id.data)


class MinutesTextForm(FlaskForm):
    agenda_items = TextAreaField(_l("Punti all'ordine del giorno"), filters=[plain_multiline],
                                 validators=[Optional(), max_length(AGENDA_ITEMS_MAX)],
                                 description=_l("Un punto per riga."))
    text = TextAreaField(_l("Testo del verbale"), filters=[plain_multiline],
                         validators=[Optional(), max_length(MINUTES_TEXT_MAX)],
                         description=_l("Svolgimento dell'incontro. Puoi usare Markdown: **grassetto**, _corsivo_, "
                                        "elenchi e link."))


PRESENCE_ABSENT = "absent"


def member_attendance_form(members, current: dict[int, str], formdata=None):
    """One select per accepted member: absent, present through the delegate or the substitute."""

    class MemberAttendanceForm(FlaskForm):
        pass

    for member in members:
        choices = [SelectChoice(PRESENCE_ABSENT, _l("Assente"))]
        if member.delegate is not None:
            choices.append(SelectChoice("delegate", _l("Presente il delegato: %(name)s",
                                                       name=member.delegate.display_name)))
        if member.substitute is not None:
            choices.append(SelectChoice("substitute", _l("Presente il sostituto: %(name)s",
                                                         name=member.substitute.display_name)))
        setattr(MemberAttendanceForm, f"member_{member.id}", ChoiceRadioField(
            member.organisation.name, choices=choices, default=current.get(member.id, PRESENCE_ABSENT)))
    form = MemberAttendanceForm(formdata=formdata) if formdata is not None else MemberAttendanceForm()
    form.members = list(members)
    return form


def member_presence(form) -> dict[int, str]:
    return {m.id: form[f"member_{m.id}"].data for m in form.members}


class ParticipantForm(FlaskForm):
    email = StringField(_l("E-mail della persona registrata"), filters=[plain],
                        validators=[required(), max_length(EMAIL_MAX)],
                        description=_l("Una persona iscritta alla piattaforma che ha partecipato all'incontro."))


class ExternalForm(FlaskForm):
    name = StringField(_l("Nome e cognome"), filters=[plain], validators=[required(), max_length(NAME_MAX)])
    role = StringField(_l("Ruolo o ente"), filters=[plain], validators=[required(), max_length(ROLE_MAX)],
                       description=_l("Per esempio: assistente sociale del Comune di Amelia."))


def decision_form(subjects, organisations, *, taken: set[str], present: int, formdata=None, obj=None):
    """The decision form; `subjects` are (group label, [(key, title)]), `taken` the keys already decided,
    `present` the member organisations present (who may vote)."""

    class DecisionForm(FlaskForm):
        subject = SelectField(_l("Proposta o obiettivo"), validate_choice=False)
        outcome = ChoiceRadioField(_l("Esito"), choices=[
            SelectChoice("approved", _l("Accolta / approvato")),
            SelectChoice("partially_approved", _l("Accolta in parte (solo proposte)")),
            SelectChoice("rejected", _l("Non accolta / non approvato")),
            SelectChoice("deferred", _l("Rinviata a un prossimo incontro")),
        ])
        method = ChoiceRadioField(_l("Come si è deciso"), default="consensus", choices=[
            SelectChoice("consensus", _l("Per consenso")),
            SelectChoice("vote", _l("Con votazione tra i membri presenti")),
        ])
        votes_for = ItalianIntegerField(_l("Favorevoli"))
        votes_against = ItalianIntegerField(_l("Contrari"))
        votes_abstained = ItalianIntegerField(_l("Astenuti"))
        motivation = TextAreaField(_l("Motivazione"), filters=[plain_multiline],
                                   validators=[required(_l("La motivazione è obbligatoria.")),
                                               max_length(MOTIVATION_MAX)],
                                   description=_l("Diventa la risposta pubblica alla proposta. Puoi usare Markdown."))
        confirm_outcome = BooleanField(_l("Confermo l'esito anche se non corrisponde ai voti"))
        outcome_note = TextAreaField(
            _l("Perché l'esito non corrisponde ai voti"), filters=[plain_multiline],
            validators=[Optional(), max_length(DISSENT_MAX)],
            description=_l("Solo se l'esito è diverso da quello che i voti indicano (per esempio una maggioranza "
                           "qualificata prevista dal regolamento del tavolo). Compare nel verbale."))

        def validate_subject(self, field):
            keys = {key for _group, options in subjects for key, _title in options}
            if field.data not in keys:
                if (field.data or "").startswith(("p:", "o:")):
                    raise ValidationError(_l("La proposta o l'obiettivo scelto non è di questo tavolo o non si può "
                                             "decidere."))
                raise ValidationError(_l("Scegli la proposta o l'obiettivo su cui il tavolo ha deciso."))
            if field.data in taken:
                raise ValidationError(_l("Il verbale contiene già una decisione su questo argomento: modifica "
                                         "quella."))

        def validate_outcome(self, field):
            if (self.subject.data or "").startswith("o:") and field.data not in OBJECTIVE_OUTCOMES:
                raise ValidationError(_l("Un obiettivo si approva, non si approva o si rinvia: non può essere "
                                         "accolto in parte."))

        def validate(self, extra_validators=None) -> bool:
            ok = super().validate(extra_validators)
            counts = (self.votes_for, self.votes_against, self.votes_abstained)
            if self.method.data == "vote":
                for f in counts:
                    if f.data is None and not f.errors:
                        f.errors = [*f.errors, str(_l("Con la votazione indica il numero di voti (anche 0)."))]
                        ok = False
            elif self.method.data == "consensus":
                for f in counts:
                    if f.data is not None:
                        f.errors = [*f.errors, str(_l("Per una decisione per consenso non si indicano voti."))]
                        ok = False
            for f in counts:
                if f.data is not None and not 0 <= f.data <= VOTES_MAX and not f.errors:
                    f.errors = [*f.errors, str(_l("Il numero di voti non può essere negativo."))
                                if f.data < 0 else str(_l("Numero di voti troppo grande."))]
                    ok = False
            if self.method.data == "vote" and not any(f.errors for f in counts):
                ok = self._check_counts() and ok
            return ok

        def _check_counts(self) -> bool:
            """Minutes sanity (the operation checks it again): votes within the members present, and an
            outcome the counts contradict only with an explicit confirmation and its reason."""
            cast = votes_cast(self.votes_for.data, self.votes_against.data, self.votes_abstained.data)
            if cast > present:
                self.votes_for.errors = [*self.votes_for.errors, str(_l(
                    "Favorevoli, contrari e astenuti sono %(cast)d, ma i membri presenti con diritto di voto sono "
                    "%(present)d.", cast=cast, present=present))]
                return False
            if not outcome_contradicts_counts(self.outcome.data, self.votes_for.data, self.votes_against.data):
                return True
            if not self.confirm_outcome.data:
                self.outcome.errors = [*self.outcome.errors, str(_l(
                    "L'esito scelto non corrisponde ai voti (%(yes)d favorevoli, %(no)d contrari): se è corretto, "
                    "spunta la conferma e spiega il motivo.", yes=self.votes_for.data, no=self.votes_against.data))]
                return False
            if not (self.outcome_note.data or "").strip():
                self.outcome_note.errors = [*self.outcome_note.errors, str(_l(
                    "Spiega perché l'esito non corrisponde ai voti."))]
                return False
            return True

    for organisation in organisations:
        setattr(DecisionForm, f"dissent_{organisation.id}", TextAreaField(
            organisation.name, filters=[plain_multiline], validators=[Optional(), max_length(DISSENT_MAX)]))
    kwargs = {"obj": obj} if obj is not None else {}
    form = DecisionForm(formdata=formdata, **kwargs) if formdata is not None else DecisionForm(**kwargs)
    form.subject.choices = [SelectChoice("", _l("— scegli —")), *[
        SelectChoice(key, title, optgroup=str(group)) for group, options in subjects for key, title in options]]
    form.organisations = list(organisations)
    return form


class ApproveForm(FlaskForm):
    confirm = BooleanField(_l("Confermo che il verbale è completo: dopo l'approvazione non si potrà più modificare."),
                           validators=[DataRequired(message=_l("Per approvare spunta la conferma."))])
