"""Forms of the proposals domain."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from wtforms import RadioField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import ValidationError

from consulta.core.forms import FlaskForm
from consulta.core.input_guard import parse_id
from consulta.core.submissions import OneTimeSubmission
from consulta.core.text import clean_plain
from consulta.extensions import db
from consulta.organisations.models import Organisation
from consulta.proposals.models import (
    OFFLINE_BADGES,
    OFFLINE_CHANNELS,
    OUTCOME_LABELS,
    OUTCOMES,
    Proposal,
    ProposalState,
    Visibility,
)
from consulta.tavoli.models import Objective, ObjectiveStatus

TITLE_MAX = 200  # Proposal.title is String(200)
BODY_MAX = 20_000
WITHDRAW_REASON_MAX = 500
# Value of the "presented by" choice meaning "as myself".
AS_CITIZEN = "citizen"


def _cleaned_length(maximum: int, message: str, *, multiline: bool = False):
    """Length limit measured on the text as it will be stored (after clean_plain)."""

    def check(form, field):
        if len(clean_plain(field.data, multiline=multiline)) > maximum:
            raise ValidationError(message)

    return check


def _not_blank(message: str, *, multiline: bool = False):
    def check(form, field):
        if not clean_plain(field.data, multiline=multiline):
            raise ValidationError(message)

    return check


class _ProposalTextForm(FlaskForm):
    """Title, text and linked objective: shared by the new and the edit forms."""

    title = StringField(
        _l("Titolo"),
        validators=[
            _not_blank(_l("Scrivi il titolo della proposta.")),
            _cleaned_length(TITLE_MAX, _l("Il titolo può avere al massimo %(max)d caratteri.", max=TITLE_MAX)),
        ],
        description=_l("Una frase breve che riassume la proposta (massimo %(max)d caratteri).", max=TITLE_MAX),
    )
    body = TextAreaField(
        _l("Testo della proposta"),
        validators=[
            _not_blank(_l("Scrivi il testo della proposta."), multiline=True),
            _cleaned_length(BODY_MAX, _l("Il testo può avere al massimo %(max)d caratteri.", max=BODY_MAX),
                            multiline=True),
        ],
        description=_l("Descrivi che cosa proponi e perché. Puoi usare Markdown: **grassetto**, *corsivo*, "
                       "elenchi con «-» e collegamenti. Massimo %(max)d caratteri.", max=BODY_MAX),
    )
    objective = SelectField(
        _l("Obiettivo collegato"),
        choices=[],
        validate_choice=False,  # validated below, so a foreign id gets a clear message
        description=_l("Facoltativo: l'obiettivo del tavolo a cui la proposta si riferisce."),
    )

    def __init__(self, tavolo, *args, current_objective: Objective | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.tavolo = tavolo
        # An edited proposal may keep its objective even once that is approved or dropped.
        self.current_objective = current_objective
        self.linked_objective: Objective | None = None
        objectives = db.session.execute(
            select(Objective.id, Objective.title)
            .where(Objective.tavolo_id == tavolo.id, Objective.status == ObjectiveStatus.published)
            .order_by(Objective.position, Objective.id)
        ).all()
        choices = [(str(oid), title) for oid, title in objectives]
        if current_objective is not None and current_objective.status != ObjectiveStatus.published:
            choices.insert(0, (str(current_objective.id), current_objective.title))
        self.objective.choices = [("", str(_l("Nessun obiettivo in particolare")))] + choices

    def validate_objective(self, field):
        raw = (field.data or "").strip()
        if not raw:
            return
        if parse_id(raw) is None:
            raise ValidationError(_l("L'obiettivo scelto non è valido."))
        objective = db.session.get(Objective, parse_id(raw))
        if objective is None:
            raise ValidationError(_l("L'obiettivo scelto non esiste."))
        if objective.tavolo_id != self.tavolo.id:
            raise ValidationError(_l("L'obiettivo scelto appartiene a un altro tavolo: scegli un obiettivo di "
                                     "questo tavolo."))
        if objective.status != ObjectiveStatus.published and objective != self.current_objective:
            raise ValidationError(_l("L'obiettivo scelto non è aperto alle proposte."))
        self.linked_objective = objective

    @property
    def clean_title(self) -> str:
        return clean_plain(self.title.data)


class ProposalForm(OneTimeSubmission, _ProposalTextForm):
    presenter = RadioField(
        _l("Presenti la proposta"),
        choices=[],
        validate_choice=False,  # validated below with a clear message
        description=_l("Una proposta a nome dell'organizzazione conta nella sua categoria di portatori di "
                       "interesse."),
    )
    submit = SubmitField(_l("Invia la proposta"))

    def __init__(self, tavolo, user, *args, **kwargs):
        super().__init__(tavolo, *args, **kwargs)
        self.organisation = user.represented_organisation
        self.presenter.choices = [(AS_CITIZEN, str(_l("A titolo personale (cittadino/a)")))]
        if self.organisation is not None:
            self.presenter.choices.append(
                (str(self.organisation.id), str(_l("A nome di %(name)s", name=self.organisation.name))))
            if not self.presenter.data:
                self.presenter.data = str(self.organisation.id)
        elif not self.presenter.data:
            self.presenter.data = AS_CITIZEN

    @property
    def shows_presenter(self) -> bool:
        return self.organisation is not None

    def validate_presenter(self, field):
        raw = (field.data or AS_CITIZEN).strip()
        if raw == AS_CITIZEN:
            return
        if self.organisation is None or raw != str(self.organisation.id):
            raise ValidationError(_l("Puoi presentare proposte solo a tuo nome o a nome dell'organizzazione "
                                     "verificata che rappresenti."))

    @property
    def on_behalf_of(self):
        """The organisation the proposal is presented for, or None (as a citizen)."""
        if self.organisation is not None and self.presenter.data == str(self.organisation.id):
            return self.organisation
        return None


class EditProposalForm(_ProposalTextForm):
    submit = SubmitField(_l("Salva le modifiche"))


class WithdrawForm(FlaskForm):
    reason = TextAreaField(
        _l("Motivo del ritiro"),
        validators=[_cleaned_length(WITHDRAW_REASON_MAX, _l("Il motivo può avere al massimo %(max)d caratteri.",
                                                            max=WITHDRAW_REASON_MAX), multiline=True)],
        description=_l("Facoltativo: sarà mostrato sulla pagina della proposta."),
    )
    submit = SubmitField(_l("Sì, ritira la proposta"))


class FollowForm(FlaskForm):
    """Only the CSRF token: following is a button."""



# --------------------------------------------------------------------------- facilitators: answers, off-line

ANSWER_MAX = 10_000
PROTOCOL_MAX = 60  # Proposal.protocol_number
AUTHOR_NAME_MAX = 120  # Proposal.author_name
MERGED = "merged"


class ReviewForm(FlaskForm):
    """Only the CSRF token: taking a proposal into evaluation is a button."""


class AnswerForm(FlaskForm):
    outcome = RadioField(
        _l("Esito"),
        choices=[],
        validate_choice=False,  # checked below with a clear message
        description=_l("«Unita ad altra proposta» quando questa ripete o completa un'altra proposta del tavolo."),
    )
    merge_into = SelectField(
        _l("Proposta in cui unirla"),
        choices=[],
        validate_choice=False,  # the operation checks the target (same tavolo, not itself, no circles): 409
        description=_l("Solo per l'esito «Unita ad altra proposta»: le proposte pubbliche dello stesso tavolo."),
    )
    motivation = TextAreaField(
        _l("Motivazione"),
        validators=[
            _not_blank(_l("Scrivi la motivazione: ogni risposta deve essere motivata."), multiline=True),
            _cleaned_length(ANSWER_MAX, _l("La motivazione può avere al massimo %(max)d caratteri.", max=ANSWER_MAX),
                            multiline=True),
        ],
        description=_l("Pubblica: la leggono l'autore e tutti i partecipanti. Puoi usare Markdown. Massimo "
                       "%(max)d caratteri.", max=ANSWER_MAX),
    )
    submit = SubmitField(_l("Pubblica la risposta"))

    def __init__(self, proposal, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.outcome.choices = [SelectChoice(value, str(OUTCOME_LABELS[value])) for value in (*OUTCOMES, MERGED)]
        targets = db.session.execute(
            select(Proposal.id, Proposal.title)
            .where(Proposal.tavolo_id == proposal.tavolo_id, Proposal.id != proposal.id,
                   Proposal.visibility == Visibility.visible.value,
                   Proposal.state.not_in((ProposalState.submitted.value, ProposalState.withdrawn.value,
                                          ProposalState.merged.value)))
            .order_by(Proposal.title, Proposal.id)
        ).all()
        self.merge_into.choices = [SelectChoice("", str(_l("— scegli la proposta —")))] + [
            SelectChoice(str(pid), f"{title} (n. {pid})") for pid, title in targets]

    def validate_outcome(self, field):
        if field.data not in {choice.value for choice in self.outcome.choices}:
            raise ValidationError(_l("Scegli l'esito della valutazione."))

    def validate_merge_into(self, field):
        if self.outcome.data != MERGED:
            return
        raw = (field.data or "").strip()
        if not raw:
            raise ValidationError(_l("Scegli la proposta in cui unire questa."))
        if parse_id(raw) is None:
            raise ValidationError(_l("La proposta scelta non è valida."))

    @property
    def merge_target_id(self) -> int | None:
        raw = (self.merge_into.data or "").strip()
        return parse_id(raw)


class OfflineProposalForm(OneTimeSubmission, _ProposalTextForm):
    """A proposal received on paper, by e-mail or at a meeting, recorded by a facilitator."""

    channel = RadioField(
        _l("Come è pervenuta"),
        choices=[],
        validate_choice=False,
    )
    protocol_number = StringField(
        _l("Numero di protocollo"),
        validators=[_cleaned_length(PROTOCOL_MAX, _l("Il numero di protocollo può avere al massimo %(max)d "
                                                      "caratteri.", max=PROTOCOL_MAX))],
        description=_l("Obbligatorio per le proposte cartacee e per posta elettronica, es. 2025/1234."),
    )
    presenter = RadioField(
        _l("Presentata da"),
        choices=[SelectChoice("organisation", _l("Un'organizzazione verificata")),
                 SelectChoice("citizen", _l("Un cittadino o una cittadina"))],
        validate_choice=False,
    )
    organisation = SelectField(
        _l("Organizzazione"),
        choices=[],
        validate_choice=False,
        description=_l("Solo organizzazioni verificate dall'Ufficio di Piano."),
    )
    author_name = StringField(
        _l("Nome e cognome"),
        validators=[_cleaned_length(AUTHOR_NAME_MAX, _l("Il nome può avere al massimo %(max)d caratteri.",
                                                         max=AUTHOR_NAME_MAX))],
        description=_l("Di chi firma la proposta: obbligatorio per un cittadino, facoltativo per "
                       "un'organizzazione."),
    )
    submit = SubmitField(_l("Registra la proposta"))

    def __init__(self, tavolo, *args, **kwargs):
        super().__init__(tavolo, *args, **kwargs)
        self.channel.choices = [SelectChoice(value, str(OFFLINE_BADGES[value])) for value in OFFLINE_CHANNELS]
        verified = db.session.execute(
            select(Organisation.id, Organisation.name).where(Organisation.status == "verified")
            .order_by(Organisation.name, Organisation.id)).all()
        self._organisations = {str(oid): oid for oid, _name in verified}
        self.organisation.choices = [SelectChoice("", str(_l("— scegli l'organizzazione —")))] + [
            SelectChoice(str(oid), name) for oid, name in verified]
        self.chosen_organisation: Organisation | None = None

    def validate_channel(self, field):
        if field.data not in {choice.value for choice in self.channel.choices}:
            raise ValidationError(_l("Indica come è pervenuta la proposta."))

    def validate_protocol_number(self, field):
        if self.channel.data in ("paper", "email") and not clean_plain(field.data):
            raise ValidationError(_l("Indica il numero di protocollo con cui la proposta è stata registrata."))

    def validate_presenter(self, field):
        if field.data not in ("organisation", "citizen"):
            raise ValidationError(_l("Indica se la proposta è di un'organizzazione o di un cittadino."))

    def validate_organisation(self, field):
        if self.presenter.data != "organisation":
            return
        raw = (field.data or "").strip()
        if not raw:
            raise ValidationError(_l("Scegli l'organizzazione che ha presentato la proposta."))
        if raw not in self._organisations:
            raise ValidationError(_l("L'organizzazione scelta non esiste o non è verificata."))
        self.chosen_organisation = db.session.get(Organisation, self._organisations[raw])

    def validate_author_name(self, field):
        if self.presenter.data == "citizen" and not clean_plain(field.data):
            raise ValidationError(_l("Scrivi il nome di chi ha presentato la proposta."))
