"""The demo Ambito: Ambito Territoriale Sociale n. 11 (Narni capofila), a consultation well under way.

`load_demo()` tells the whole story of a Piano Sociale di Zona through the same operations the views
call: organisations sit at the tavoli with a delegate and a substitute, objectives are revised, citizens
and organisations of every category propose, comment and vote, facilitators moderate and answer, two
meetings are held and their minutes approved (one rectified), another is convened, and the decisions
flow into the plan record, which is adopted, monitored and updated once.

What is set by hand is only what an operation takes as "now" (the clock), so the demo is always current:
meetings last month and last week, the next one next week, deadlines in the future. The rows that have
no operation of their own (the Ambito and its comuni, organisations and their members, the plan
edition and its tavoli) are inserted as the test factories insert them.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from stdnum import luhn

from consulta.accounts.models import RegisteredAs, Role, User
from consulta.accounts.operations import create_user
from consulta.ambito.models import Ambito, Comune
from consulta.comments import operations as comments_ops
from consulta.core.audit import AuditEvent
from consulta.core.db import utcnow
from consulta.core.notify import Notification
from consulta.core.text import render_markdown, slugify
from consulta.extensions import db
from consulta.meetings import operations as meetings_ops
from consulta.moderation import operations as moderation
from consulta.moderation.models import Flag
from consulta.organisations.models import (
    Membership,
    MembershipStatus,
    Organisation,
    OrganisationStatus,
)
from consulta.plan import operations as plan_ops
from consulta.plan import record_operations as record_ops
from consulta.plan.models import Plan, PlanStatus
from consulta.plan.record import PlanRevision, ProgressUpdate
from consulta.proposals import operations as proposals_ops
from consulta.tavoli import operations as tavoli_ops
from consulta.tavoli.models import Moderation, Phase, Tavolo, VoteMode
from consulta.votes import operations as votes_ops
from consulta.votes.models import Vote

COMUNI = [
    ("Narni", "055022"), ("Alviano", "055002"), ("Amelia", "055005"), ("Attigliano", "055007"),
    ("Avigliano Umbro", "055033"), ("Calvi dell'Umbria", "055009"), ("Giove", "055013"),
    ("Guardea", "055014"), ("Lugnano in Teverina", "055015"), ("Montecastrilli", "055017"),
    ("Otricoli", "055024"), ("Penna in Teverina", "055027"),
]

DEMO_PASSWORD = "consulta-demo-2025"
DEMO_ACCOUNTS = [
    ("Amministratore", "admin@consulta.example", DEMO_PASSWORD),
    ("Facilitatrice", "facilitatrice@consulta.example", DEMO_PASSWORD),
    ("Rappresentante (coop.)", "coop@consulta.example", DEMO_PASSWORD),
    ("Cittadino", "cittadino@consulta.example", DEMO_PASSWORD),
]

# slug, title, area, description, moderation, vote mode, quorum
TAVOLI = [
    ("minori-e-famiglia", "Minori, giovani e famiglia", "Minori e famiglia",
     "Sostegno alla genitorialità, contrasto all'abbandono scolastico, centri per le famiglie.", "post", "person", 3),
    ("anziani", "Anziani", "Anziani",
     "Domiciliarità, sollievo alle famiglie che assistono, contrasto alla solitudine degli anziani soli.", "post",
     "person", 4),
    ("disabilita", "Disabilità", "Disabilità",
     "Progetti di vita indipendente, inclusione scolastica e lavorativa, dopo di noi.", "pre", "organisation", None),
    ("poverta-e-inclusione", "Povertà e inclusione sociale", "Povertà ed emarginazione",
     "Servizi a bassa soglia, emergenza casa, percorsi di inclusione attiva.", "post", "person", None),
    ("immigrazione", "Immigrazione e intercultura", "Immigrazione",
     "Mediazione culturale, corsi di italiano, accoglienza diffusa.", "post", "person", None),
    ("salute-mentale-e-dipendenze", "Salute mentale e dipendenze", "Salute mentale e dipendenze",
     "Integrazione sociosanitaria con l'Azienda USL, prevenzione e reinserimento.", "pre", "person", None),
]

# key, name, type, tax code (None: computed), comune
ORGANISATIONS = [
    ("spi", "CGIL Terni – Lega SPI Narni", "union", "80012340552", "Narni"),
    ("cerchio", "Cooperativa Sociale Il Cerchio", "social_coop", "01234560553", "Amelia"),
    ("avaa", "Associazione Volontari Amerini per l'Assistenza", "volunteer", "90012340551", "Amelia"),
    ("ponte", "APS Il Ponte – Giovani di Otricoli", "aps", "90045670552", "Otricoli"),
    ("fondazione", "Fondazione Comunità Narnese", "third_sector_other", "90056780555", "Narni"),
    ("usl", "Azienda USL Umbria 2 – Distretto di Narni-Amelia", "public_body", "01499590550", "Narni"),
    ("cisl", "CISL FNP Terni – Zona di Narni e Amelia", "union", None, "Narni"),
    ("rondine", "Cooperativa Sociale La Rondine", "social_coop", None, "Montecastrilli"),
    ("auser", "Auser Amelia ODV", "volunteer", None, "Amelia"),
    ("arci", "ARCI Lugnano in Teverina APS", "aps", None, "Lugnano in Teverina"),
    ("caritas", "Caritas diocesana di Terni-Narni-Amelia", "third_sector_other", None, "Narni"),
    ("scuola", "Istituto Comprensivo Narni Scalo", "public_body", None, "Narni"),
]

# key, e-mail, name, comune, organisation key or None, representative?
PEOPLE = [
    ("coop", "coop@consulta.example", "Marco Rossi", "Amelia", "cerchio", True),
    ("citizen", "cittadino@consulta.example", "Giulia Ferri", "Otricoli", None, False),
    ("union", "sindacato@consulta.example", "Paolo Santini", "Narni", "spi", True),
    ("volunteer", "volontariato@consulta.example", "Anna Marchetti", "Amelia", "avaa", True),
    ("aps", "aps@consulta.example", "Luca Bernardini", "Otricoli", "ponte", True),
    ("third_sector", "fondazione@consulta.example", "Elena Proietti", "Narni", "fondazione", True),
    ("public_body", "asl@consulta.example", "Roberto Mancini", "Narni", "usl", True),
    ("cisl", "cisl@consulta.example", "Franca Sensini", "Narni", "cisl", True),
    ("rondine", "rondine@consulta.example", "Davide Lucci", "Montecastrilli", "rondine", True),
    ("auser", "auser@consulta.example", "Maria Grazia Petrini", "Amelia", "auser", True),
    ("arci", "arci@consulta.example", "Samir Haddad", "Lugnano in Teverina", "arci", True),
    ("caritas", "caritas@consulta.example", "don Stefano Carloni", "Narni", "caritas", True),
    ("scuola", "scuola@consulta.example", "Laura Cardinali", "Narni", "scuola", True),
    # substitutes: members, not representatives
    ("spi_sub", "spi.sostituto@consulta.example", "Giorgio Mattioli", "Narni", "spi", False),
    ("cerchio_sub", "cerchio.sostituta@consulta.example", "Silvia Paolucci", "Amelia", "cerchio", False),
    ("avaa_sub", "avaa.sostituto@consulta.example", "Enrico Tomassini", "Amelia", "avaa", False),
    ("ponte_sub", "ponte.sostituta@consulta.example", "Irene Cerquiglini", "Otricoli", "ponte", False),
    ("cisl_sub", "cisl.sostituto@consulta.example", "Alberto Fratini", "Narni", "cisl", False),
    ("rondine_sub", "rondine.sostituta@consulta.example", "Chiara Pompili", "Montecastrilli", "rondine", False),
    ("usl_sub", "usl.sostituta@consulta.example", "Patrizia Renzi", "Narni", "usl", False),
    # citizens
    ("c_penna", "a.moretti@consulta.example", "Antonio Moretti", "Penna in Teverina", None, False),
    ("c_amelia", "s.galli@consulta.example", "Sara Galli", "Amelia", None, False),
    ("c_lugnano", "f.bianchi@consulta.example", "Francesco Bianchi", "Lugnano in Teverina", None, False),
    ("c_giove", "r.conti@consulta.example", "Rita Conti", "Giove", None, False),
    ("c_narni", "m.ricci@consulta.example", "Matteo Ricci", "Narni", None, False),
    ("c_calvi", "l.fabbri@consulta.example", "Lucia Fabbri", "Calvi dell'Umbria", None, False),
]

# Seats at the tavoli: organisation key -> (delegate key, substitute key or None); tavolo -> organisations.
SEATS = {
    "spi": ("union", "spi_sub"), "cerchio": ("coop", "cerchio_sub"), "avaa": ("volunteer", "avaa_sub"),
    "ponte": ("aps", "ponte_sub"), "fondazione": ("third_sector", None), "usl": ("public_body", "usl_sub"),
    "cisl": ("cisl", "cisl_sub"), "rondine": ("rondine", "rondine_sub"), "auser": ("auser", None),
    "arci": ("arci", None), "caritas": ("caritas", None), "scuola": ("scuola", None),
}
MEMBERS = {
    "anziani": ["spi", "cisl", "cerchio", "avaa", "auser", "usl"],
    "minori-e-famiglia": ["ponte", "fondazione", "rondine", "scuola", "arci"],
    "disabilita": ["cerchio", "fondazione", "usl", "avaa"],
    "poverta-e-inclusione": ["caritas", "spi", "fondazione", "rondine"],
    "immigrazione": ["arci", "caritas", "scuola"],
    "salute-mentale-e-dipendenze": ["usl", "cerchio", "auser"],
}
# Asked to sit, waiting for the facilitator.
REQUESTED = [("poverta-e-inclusione", "arci")]

# Objectives per tavolo: (title, body, later revisions [(title, body, note)]).
OBJECTIVES = {
    "minori-e-famiglia": [
        ("Potenziare il Centro per le famiglie",
         "Aprire sportelli di **sostegno alla genitorialità** a Narni e Amelia e un servizio di mediazione "
         "familiare per le famiglie in condizioni di fragilità.",
         [("Potenziare il Centro per le famiglie",
           "Aprire sportelli di **sostegno alla genitorialità** a Narni, Amelia e Lugnano in Teverina e un "
           "servizio di mediazione familiare per le famiglie in condizioni di fragilità.",
           "Aggiunto lo sportello di Lugnano in Teverina chiesto al primo incontro.")]),
        ("Contrastare l'abbandono scolastico",
         "Integrare scuola, servizi educativi e sociali con progetti di tutoraggio nei comuni più piccoli.",
         [("Contrastare l'abbandono scolastico e la povertà educativa",
           "Integrare scuola, servizi educativi e sociali con progetti di tutoraggio e doposcuola nei comuni "
           "più piccoli, con gli istituti comprensivi dell'Ambito.",
           "Titolo più ampio: comprende la povertà educativa, come chiesto dall'Istituto comprensivo."),
          ("Contrastare l'abbandono scolastico e la povertà educativa",
           "Integrare scuola, servizi educativi e sociali con progetti di tutoraggio, doposcuola e spazi "
           "aggregativi per adolescenti nei comuni più piccoli, con gli istituti comprensivi dell'Ambito.",
           "Aggiunti gli spazi aggregativi per adolescenti.")]),
    ],
    "anziani": [
        ("Sostenere la domiciliarità",
         "Ampliare l'assistenza domiciliare e i servizi di **sollievo** alle famiglie che assistono.",
         [("Sostenere la domiciliarità",
           "Ampliare l'assistenza domiciliare, anche nel fine settimana, e i servizi di **sollievo** alle "
           "famiglie che assistono una persona non autosufficiente.",
           "Precisato il fine settimana e la non autosufficienza."),
          ("Sostenere la domiciliarità e chi assiste",
           "Ampliare l'assistenza domiciliare, anche nel fine settimana, i servizi di **sollievo** e la "
           "formazione delle famiglie e delle assistenti familiari che assistono una persona non "
           "autosufficiente.",
           "Aggiunta la formazione delle assistenti familiari, proposta dalla CISL.")]),
        ("Contrastare la solitudine degli anziani soli",
         "Una rete di verifica e compagnia con il volontariato, a partire dai borghi senza servizi.", []),
    ],
    "disabilita": [
        ("Progetti di vita indipendente",
         "Percorsi personalizzati di autonomia abitativa e lavorativa, in attuazione della legge 112/2016.",
         [("Progetti di vita indipendente e dopo di noi",
           "Percorsi personalizzati di autonomia abitativa e lavorativa, in attuazione della legge 112/2016, "
           "con le famiglie e gli enti del Terzo settore.",
           "Richiamato il «dopo di noi» nel titolo.")]),
    ],
    "poverta-e-inclusione": [
        ("Mantenere i servizi a bassa soglia",
         "Consolidare la pronta accoglienza e il sostegno alle famiglie colpite dall'emergenza casa.", []),
    ],
    "immigrazione": [
        ("Mediazione culturale nei servizi",
         "Mediatori culturali a scuola, nei servizi sociali e sanitari; corsi di italiano per adulti.", []),
    ],
    "salute-mentale-e-dipendenze": [
        ("Prevenzione e stili di vita con le scuole",
         "Azioni di prevenzione dell'uso di sostanze e del gioco d'azzardo con le scuole e l'Azienda USL.", []),
    ],
}

# key, tavolo, objective index or None, author key, days ago, title, body.
# An author who represents an organisation proposes on its behalf.
PROPOSALS = [
    # Anziani
    ("sabato", "anziani", 0, "coop", 41, "Assistenza domiciliare anche il sabato",
     "Proponiamo di estendere l'assistenza domiciliare al **sabato mattina**, quando le famiglie che assistono "
     "hanno più bisogno di sollievo. Bastano due operatrici in più per coprire Narni e Amelia."),
    ("telefonia", "anziani", 1, "union", 40, "Telefonia sociale per gli anziani soli",
     "Un servizio di telefonate periodiche agli anziani soli, gestito con lo SPI e il volontariato, collegato "
     "al servizio sociale dei comuni: chi non risponde per due giorni riceve una visita."),
    ("trasporto", "anziani", 1, "citizen", 39, "Trasporto sociale nei borghi",
     "Nei borghi di Penna in Teverina e Alviano chi non guida non riesce a raggiungere gli ambulatori di "
     "Amelia: serve un trasporto sociale a chiamata, prenotabile per telefono."),
    ("domenica", "anziani", 0, "c_penna", 38, "Assistenza domiciliare nel fine settimana",
     "Mio padre vive solo a Penna in Teverina: il sabato e la domenica nessuno passa da lui. Chiedo che "
     "l'assistenza domiciliare copra anche il fine settimana."),
    ("pasti", "anziani", 0, "cisl", 37, "Pasti a domicilio nei comuni senza mensa",
     "A Giove, Guardea e Alviano non c'è una mensa: proponiamo la consegna di un pasto caldo a domicilio, "
     "cinque giorni su sette, con le cucine delle scuole."),
    ("custode", "anziani", 1, "auser", 14, "Custode sociale nei condomini di Narni Scalo",
     "Una figura di riferimento nei condomini popolari di Narni Scalo, che conosce gli anziani soli e segnala "
     "ai servizi chi ha bisogno."),
    ("ginnastica", "anziani", None, "c_amelia", 6, "Ginnastica dolce nei centri sociali",
     "Corsi gratuiti di ginnastica dolce nei centri sociali per anziani di Amelia e Montecastrilli, due "
     "mattine a settimana."),
    ("dimissioni", "anziani", 0, "public_body", 22, "Dimissioni protette dall'ospedale di Narni",
     "Un percorso condiviso tra ospedale, distretto e servizi sociali perché nessun anziano torni a casa "
     "senza un piano di assistenza già attivo."),
    ("teleassistenza", "anziani", 1, "c_giove", 3, "Teleassistenza con il braccialetto",
     "Un braccialetto di allarme collegato a una centrale per chi vive solo: a Giove lo usano già alcune "
     "famiglie a proprie spese."),
    # Minori, giovani e famiglia
    ("spazio-giovani", "minori-e-famiglia", 1, "aps", 27, "Spazio giovani a Otricoli",
     "Uno spazio aperto il pomeriggio per i ragazzi, con educatori e attività di scambio interculturale, "
     "nei locali dell'ex scuola elementare."),
    ("doposcuola", "minori-e-famiglia", 1, "volunteer", 26, "Doposcuola solidale",
     "Volontari per il doposcuola nei comuni senza servizi educativi pomeridiani: Alviano, Guardea, Penna in "
     "Teverina e Attigliano."),
    ("nido-estate", "minori-e-famiglia", 0, "c_lugnano", 24, "Nido aperto anche ad agosto a Lugnano",
     "Il nido di Lugnano in Teverina chiude a luglio: chi lavora ad agosto non sa a chi lasciare i bambini."),
    ("sportello-psi", "minori-e-famiglia", 1, "scuola", 19, "Sportello psicologico nelle scuole medie",
     "Uno psicologo a scuola un giorno a settimana, per i ragazzi e per i genitori, in raccordo con il "
     "consultorio."),
    ("educativa", "minori-e-famiglia", 0, "rondine", 16, "Educativa domiciliare per i neo-genitori",
     "Visite a casa di un'educatrice nei primi mesi di vita del bambino, per le famiglie segnalate dai "
     "servizi o dal punto nascita."),
    ("ludoteca", "minori-e-famiglia", None, "c_amelia", 4, "Ludoteca il sabato ad Amelia",
     "Una ludoteca aperta il sabato mattina nella biblioteca comunale di Amelia."),
    ("borse", "minori-e-famiglia", 1, "third_sector", 9, "Borse di studio per i ragazzi seguiti dai servizi",
     "La Fondazione mette a disposizione dieci borse di studio l'anno per libri, trasporto e attività "
     "sportive dei ragazzi seguiti dai servizi sociali."),
    ("centri-estivi", "minori-e-famiglia", None, "c_narni", 13, "Centri estivi a prezzi calmierati",
     "Una tariffa agevolata per i centri estivi in base all'ISEE, uguale in tutti i comuni dell'Ambito."),
    # Disabilità (pre-moderated, votes by organisation)
    ("appartamento", "disabilita", 0, "coop", 31, "Appartamento per l'autonomia a Narni",
     "Un appartamento palestra per sperimentare la vita indipendente, con educatori a ore, per quattro "
     "giovani adulti con disabilità."),
    ("dopo-di-noi", "disabilita", 0, "third_sector", 29, "Dopo di noi: una rete con le famiglie",
     "Un percorso con le famiglie per progettare il «dopo di noi»: consulenza legale, trust e "
     "co-abitazione."),
    ("trasporto-cd", "disabilita", None, "volunteer", 21, "Trasporto per i centri diurni",
     "Il pulmino dei volontari può accompagnare ai centri diurni chi abita nei comuni più lontani, se "
     "l'Ambito ne copre l'assicurazione e il carburante."),
    ("caregiver", "disabilita", None, "c_calvi", 11, "Sostegno ai caregiver familiari",
     "Chi assiste un figlio con disabilità grave ha bisogno di qualche ora di sollievo a settimana e di un "
     "gruppo di sostegno."),
    ("borsa-lavoro", "disabilita", 0, "public_body", 2, "Inserimenti lavorativi con borsa lavoro",
     "Borse lavoro di sei mesi nelle aziende del territorio, con un tutor del servizio di inserimento "
     "lavorativo."),
    ("parchi", "disabilita", None, "c_narni", 1, "Parchi giochi accessibili",
     "Giochi inclusivi nei parchi di Narni Scalo e di Amelia, dove oggi un bambino in carrozzina non può "
     "giocare con gli altri."),
    # Povertà e inclusione
    ("emporio", "poverta-e-inclusione", 0, "third_sector", 34, "Emporio solidale dell'Ambito",
     "Un emporio solidale con tessera a punti per le famiglie seguite dai servizi sociali, con i prodotti "
     "donati dalla grande distribuzione."),
    ("dormitorio", "poverta-e-inclusione", 0, "caritas", 30, "Accoglienza notturna d'inverno a Narni",
     "Dieci posti letto da dicembre a marzo per chi dorme in strada o in auto, con la Caritas e la Croce "
     "Rossa."),
    ("bollette", "poverta-e-inclusione", None, "union", 28, "Anticipo delle spese per le bollette",
     "Un fondo dell'Ambito che anticipi le bollette arretrate alle famiglie a rischio distacco."),
    ("tirocini", "poverta-e-inclusione", None, "rondine", 17, "Tirocini di inclusione nelle aziende agricole",
     "Tirocini di sei mesi nelle aziende agricole della Teverina per chi riceve l'assegno di inclusione."),
    ("mensa", "poverta-e-inclusione", 0, "c_amelia", 5, "Una mensa sociale anche ad Amelia",
     "La mensa della Caritas è solo a Narni: ad Amelia servirebbe almeno un pasto a mezzogiorno."),
    # Immigrazione e intercultura
    ("italiano", "immigrazione", 0, "citizen", 33, "Corsi di italiano serali",
     "Corsi di italiano la sera, per chi lavora di giorno, a Narni e ad Amelia."),
    ("mediatori", "immigrazione", 0, "arci", 32, "Mediatori culturali negli ambulatori",
     "Un mediatore culturale presente negli ambulatori del distretto nei giorni delle vaccinazioni e "
     "delle visite pediatriche."),
    ("soggiorno", "immigrazione", None, "caritas", 20, "Accompagnamento alle pratiche di soggiorno",
     "Uno sportello che aiuti a preparare le pratiche per il permesso di soggiorno, su appuntamento."),
    ("neo-arrivati", "immigrazione", 0, "scuola", 8, "Accoglienza degli alunni neo-arrivati",
     "Un protocollo di accoglienza comune alle scuole dell'Ambito, con ore di italiano come seconda lingua."),
    ("festa", "immigrazione", None, "c_lugnano", 2, "Una festa interculturale dei comuni",
     "Una festa a maggio, ogni anno in un comune diverso, con le comunità straniere dell'Ambito."),
    ("badanti", "immigrazione", 0, "volunteer", 10, "Italiano e formazione per le assistenti familiari",
     "Corsi di italiano e di primo soccorso per le assistenti familiari che lavorano nelle nostre case."),
    # Salute mentale e dipendenze (pre-moderated)
    ("ama", "salute-mentale-e-dipendenze", None, "public_body", 25, "Gruppi di auto-mutuo aiuto nei comuni",
     "Gruppi di auto-mutuo aiuto per familiari e persone con disagio psichico, in sale messe a disposizione "
     "dai comuni."),
    ("budget-salute", "salute-mentale-e-dipendenze", None, "coop", 23, "Budget di salute per il reinserimento",
     "Progetti personalizzati di casa, lavoro e socialità per le persone seguite dal Centro di salute "
     "mentale, con un budget condiviso tra Azienda USL e comuni."),
    ("azzardo", "salute-mentale-e-dipendenze", 0, "auser", 18, "Prevenzione del gioco d'azzardo con i circoli",
     "Incontri nei circoli e nei centri sociali sul gioco d'azzardo, che colpisce anche gli anziani."),
    ("ascolto", "salute-mentale-e-dipendenze", 0, "c_giove", 1, "Sportello d'ascolto per i giovani",
     "Uno sportello anonimo, anche su WhatsApp, per i ragazzi che non vogliono andare al servizio."),
    ("peer", "salute-mentale-e-dipendenze", 0, "aps", 15, "Educazione tra pari nelle scuole superiori",
     "Ragazzi formati che parlano ai compagni di alcol e sostanze, con il SerD."),
]
# Left waiting in the moderation queue of a pre-moderated tavolo.
PENDING = {"borsa-lavoro", "parchi", "ascolto"}
# Received on paper by the Ufficio di Piano and recorded by the facilitator.
PAPER = ("poverta-e-inclusione", 0, 12, "Sportello casa per le famiglie sotto sfratto",
         "Chiediamo uno sportello che segua le famiglie sotto sfratto a Narni Scalo: consulenza, contatti con i "
         "proprietari, ricerca di un alloggio temporaneo.", "Comitato inquilini di Narni Scalo", "2026/0412")

# proposal key, author key, stance, body, reply to (index in this list) or None, days ago
COMMENTS = [
    ("sabato", "citizen", "in_favour", "Mia madre ne avrebbe bisogno: il sabato restiamo sempre soli.", None, 40),
    ("sabato", "union", "in_favour", "Condividiamo, purché il servizio resti pubblico e con personale stabile.",
     None, 39),
    ("sabato", "coop", None, "Grazie: il costo stimato è nella scheda che porteremo all'incontro del tavolo.", 1,
     39),
    ("sabato", "public_body", "neutral", "Va coordinato con l'assistenza domiciliare integrata del distretto, "
     "per non sovrapporre gli accessi.", None, 38),
    ("telefonia", "volunteer", "in_favour", "I nostri volontari sono disponibili a fare le telefonate.", None, 39),
    ("telefonia", "c_giove", "in_favour", "Ottima idea, soprattutto d'inverno.", None, 37),
    ("trasporto", "public_body", "neutral", "Va coordinato con il servizio di trasporto dell'Azienda USL.", None,
     38),
    ("trasporto", "c_penna", "in_favour", "A Penna l'autobus passa due volte al giorno: il trasporto a chiamata "
     "è l'unica soluzione.", None, 37),
    ("trasporto", "citizen", None, "Esatto, e prenotabile anche dai figli che abitano fuori.", 7, 36),
    ("pasti", "auser", "in_favour", "Possiamo consegnare noi i pasti con i nostri mezzi.", None, 36),
    ("pasti", "c_amelia", "against", "Meglio aprire una mensa ad Amelia, dove gli anziani soli sono di più.",
     None, 35),
    ("custode", "c_narni", "in_favour", "Nel mio condominio servirebbe davvero.", None, 12),
    ("dimissioni", "coop", "in_favour", "Il nostro servizio domiciliare può partire il giorno stesso delle "
     "dimissioni, se avvisato prima.", None, 20),
    ("spazio-giovani", "citizen", "in_favour", "Finalmente un posto per i ragazzi di Otricoli!", None, 26),
    ("spazio-giovani", "scuola", "against", "Meglio rafforzare gli spazi già esistenti ad Amelia e il tempo "
     "pieno della scuola.", None, 25),
    ("spazio-giovani", "aps", None, "Ad Amelia si arriva solo in auto: i ragazzi di Otricoli restano esclusi.",
     14, 25),
    ("doposcuola", "c_lugnano", "in_favour", "A Lugnano ci sono già tre volontarie pronte.", None, 25),
    ("doposcuola", "rondine", "neutral", "Servono anche educatori professionali, non solo volontari.", None, 24),
    ("nido-estate", "c_amelia", "in_favour", "Anche ad Amelia lo stesso problema.", None, 23),
    ("sportello-psi", "c_narni", "in_favour", "Mio figlio ne avrebbe avuto bisogno l'anno scorso.", None, 18),
    ("educativa", "third_sector", "in_favour", "La Fondazione può cofinanziare il primo anno.", None, 15),
    ("appartamento", "third_sector", "in_favour", "Le famiglie del nostro gruppo sono pronte a partecipare.",
     None, 30),
    ("appartamento", "public_body", "in_favour", "Il distretto può garantire la presa in carico sanitaria.",
     None, 29),
    ("dopo-di-noi", "coop", "in_favour", "Possiamo mettere a disposizione la nostra esperienza a Terni.", None,
     27),
    ("caregiver", "c_penna", "in_favour", "Un gruppo di sostegno aiuterebbe anche me.", None, 10),
    ("emporio", "citizen", "in_favour", "A Otricoli molte famiglie ne avrebbero bisogno.", None, 33),
    ("emporio", "caritas", "in_favour", "Mettiamo a disposizione il magazzino della Caritas a Narni Scalo.", None,
     32),
    ("dormitorio", "c_narni", "in_favour", "L'inverno scorso due persone dormivano alla stazione.", None, 29),
    ("bollette", "third_sector", "against", "Un anticipo senza un percorso con i servizi rischia di ripetersi "
     "ogni anno.", None, 27),
    ("bollette", "union", None, "Il percorso c'è già con il segretariato sociale: chiediamo solo lo strumento.",
     28, 26),
    ("italiano", "arci", "in_favour", "Il circolo di Lugnano può ospitare un corso.", None, 32),
    ("italiano", "c_calvi", "in_favour", "La sera è l'unico momento possibile per chi lavora nei campi.", None,
     31),
    ("mediatori", "public_body", "in_favour", "Il distretto lo chiede da tempo.", None, 31),
    ("soggiorno", "c_amelia", "neutral", "Servirebbe anche ad Amelia, non solo a Narni.", None, 19),
    ("badanti", "cisl", "in_favour", "Condividiamo: la formazione delle assistenti familiari è una priorità.",
     None, 9),
    ("ama", "cerchio_sub", None, "Nella nostra esperienza i gruppi funzionano se c'è un facilitatore formato.",
     None, 24),
    ("budget-salute", "public_body", "in_favour", "Il budget di salute è previsto dal piano regionale.", None,
     22),
    ("peer", "c_narni", "in_favour", "Meglio dei soliti incontri con l'esperto.", None, 14),
    ("ginnastica", "c_giove", "in_favour", "Anche a Giove, per favore!", None, 5),
    ("teleassistenza", "c_penna", "neutral", "Quanto costa al mese? Molti anziani non possono permetterselo.",
     None, 2),
]
# Comments that wait in the queue of a pre-moderated tavolo (index into COMMENTS).
PENDING_COMMENTS = {36}
# Comments reported by participants: (comment index, reporter key, reason, note)
FLAGS = [
    (10, "auser", "off_topic", "Non riguarda la proposta dei pasti a domicilio."),
    (10, "cisl", "off_topic", None),
    (29, "c_narni", "offensive", "Tono polemico verso i servizi sociali."),
]

DEBATED = {"sabato", "telefonia", "trasporto", "spazio-giovani", "doposcuola"}
VOTERS = ["citizen", "union", "volunteer", "aps", "third_sector", "public_body", "coop", "cisl", "rondine",
          "auser", "arci", "caritas", "scuola", "c_penna", "c_amelia", "c_lugnano", "c_giove", "c_narni",
          "c_calvi"]

# The facilitator's answers without a meeting: proposal key -> (outcome, motivation)
ANSWERS = {
    "appartamento": ("approved",
                     "Accolta: l'appartamento sarà finanziato con le risorse del «dopo di noi» e del PNRR (missione 5, "
                     "percorsi di autonomia), con la Cooperativa Il Cerchio come gestore."),
    "emporio": ("approved", "Accolta: l'emporio aprirà nei locali messi a disposizione dalla Caritas a Narni "
                "Scalo, con il Fondo Povertà."),
    "dormitorio": ("partially_approved",
                   "Accolta in parte: i posti letto saranno sei, non dieci, nella struttura di via Tuderte, da "
                   "dicembre a febbraio."),
    "bollette": ("rejected",
                 "Non accolta: un fondo di anticipo delle bollette non rientra tra le spese ammissibili del Fondo "
                 "Povertà. Le famiglie a rischio distacco sono indirizzate al bonus sociale e al contributo "
                 "economico straordinario del comune."),
    "italiano": ("partially_approved",
                 "Accolta in parte: i corsi serali partiranno a Narni con il CPIA; ad Amelia dal prossimo anno."),
    "mediatori": ("approved", "Accolta: un mediatore sarà presente due mattine al mese negli ambulatori di Narni "
                  "e di Amelia."),
}
REVIEWING = ["dimissioni", "soggiorno"]
MERGED = ("domenica", "sabato", "Unita alla proposta «Assistenza domiciliare anche il sabato», che chiede lo "
          "stesso servizio: se ne discuterà insieme all'incontro del tavolo.")


@dataclass
class Story:
    """What `load_demo` has built so far, by key."""

    admin: User
    facilitator: User
    comuni: dict[str, Comune]
    people: dict[str, User] = field(default_factory=dict)
    orgs: dict[str, Organisation] = field(default_factory=dict)
    tavoli: dict[str, Tavolo] = field(default_factory=dict)
    members: dict[tuple[str, str], object] = field(default_factory=dict)
    objectives: dict[str, list] = field(default_factory=dict)
    proposals: dict[str, object] = field(default_factory=dict)
    decisions: dict[str, object] = field(default_factory=dict)
    plan: Plan | None = None
    clock: Clock = field(default_factory=lambda: Clock())


ROME = ZoneInfo("Europe/Rome")


class Clock:
    """Dates what the operations inside `at(when)` record as "now": the audit log and the notifications
    (and, when named, the rows of other models such as votes or flags). The one thing set by hand,
    as in the test factories, so the story unfolds over the past weeks; what happens outside `at`
    (approving minutes, sealed with their moment) keeps the real now."""

    @staticmethod
    def _last_id(model) -> int:
        return db.session.scalar(select(func.coalesce(func.max(model.id), 0)))

    @contextmanager
    def at(self, when: datetime, *models):
        models = (AuditEvent, Notification, *models)
        db.session.flush()
        marks = {model: self._last_id(model) for model in models}
        yield when
        db.session.flush()
        for model in models:
            columns = [c for c in ("at", "created_at", "updated_at", "changed_at") if hasattr(model, c)]
            db.session.execute(update(model).where(model.id > marks[model]).values(dict.fromkeys(columns, when))
                               .execution_options(synchronize_session=False))


def _ago(days: float, hour: int = 10, minute: int = 0) -> datetime:
    """`days` ago at `hour`:`minute` in Rome (in UTC, whole seconds); negative days are in the future."""
    day = (utcnow() - timedelta(days=days)).astimezone(ROME).date()
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=ROME).astimezone(UTC)


def _tax_code(n: int) -> str:
    base = f"9{n:06d}055"
    return base + luhn.calc_check_digit(base)


def load_demo() -> bool:
    """Create the demo data unless the Ambito exists; returns True when something was created. Flushes;
    the caller commits."""
    if Ambito.current() is not None:
        return False
    comuni = {}
    for name, istat in COMUNI:
        comune = Comune(name=name, slug=slugify(name), istat_code=istat)
        db.session.add(comune)
        comuni[name] = comune
    db.session.flush()
    db.session.add(Ambito(
        name="Ambito Territoriale Sociale n. 11", number="11", region="Umbria", lead_comune_id=comuni["Narni"].id,
        description="Narni (comune capofila) e altri undici comuni della bassa Umbria.",
    ))

    def account(email, name, role, comune):
        return create_user(email=email, display_name=name, password=DEMO_PASSWORD, role=role,
                           registered_as=RegisteredAs.citizen, comune_id=comuni[comune].id, verified=True,
                           check_password=False)

    story = Story(admin=account("admin@consulta.example", "Ufficio di Piano", Role.admin, "Narni"),
                  facilitator=account("facilitatrice@consulta.example", "Chiara Benedetti", Role.facilitator,
                                      "Narni"),
                  comuni=comuni)
    _people(story)
    _plan_and_tavoli(story)
    _seats(story)
    _objectives(story)
    _proposals(story)
    _conversation(story)
    _answers(story)
    _meetings(story)
    _plan_record(story)
    _digest(story)
    db.session.flush()
    return True


def _digest(story: Story) -> None:
    """The citizen's weekly digest of all that happened, written to the outbox like any digest:
    `make run`'s sender delivers it (to the SMTP server, or in development to /_dev/posta)."""
    from consulta.digests.builder import build_digest, pending_notifications, period_key
    from consulta.digests.operations import store_digest

    citizen = story.people["citizen"]
    db.session.flush()
    digest = build_digest(citizen, "weekly", period_key("weekly"), pending_notifications(citizen.id))
    if not digest.is_empty:
        store_digest(digest)


def _people(story: Story) -> None:
    now = utcnow()
    for n, (key, name, kind, tax_code, comune) in enumerate(ORGANISATIONS):
        org = Organisation(name=name, type=kind, tax_code=tax_code or _tax_code(n), comune_id=story.comuni[comune].id,
                           status=OrganisationStatus.verified, verified_at=now - timedelta(days=60),
                           verified_by_id=story.admin.id, created_by_id=story.admin.id)
        db.session.add(org)
        story.orgs[key] = org
    db.session.flush()
    for key, email, name, comune, org_key, representative in PEOPLE:
        person = create_user(
            email=email, display_name=name, password=DEMO_PASSWORD, comune_id=story.comuni[comune].id,
            registered_as=RegisteredAs.representative if org_key else RegisteredAs.citizen, verified=True,
            check_password=False)
        if org_key:
            db.session.add(Membership(user_id=person.id, organisation_id=story.orgs[org_key].id,
                                      is_representative=representative, status=MembershipStatus.active,
                                      decided_at=now - timedelta(days=60), decided_by_id=story.admin.id))
        story.people[key] = person
    db.session.flush()


def _plan_and_tavoli(story: Story) -> None:
    year = utcnow().year
    start, end = year, year + 2
    plan = Plan(
        title=f"Piano Sociale di Zona {start}–{end}", period_start=start, period_end=end,
        status=PlanStatus.consulting,
        description="Il Piano triennale dei servizi sociali dell'Ambito n. 11, costruito con i tavoli tematici. "
                    "Adottato dal Comitato dei Sindaci, si aggiorna con le decisioni dei tavoli, che restano "
                    "aperti per tutto il triennio.",
    )
    db.session.add(plan)
    db.session.flush()
    for position, (slug, title, area, description, moderation_mode, vote_mode, quorum) in enumerate(TAVOLI):
        tavolo = Tavolo(
            plan_id=plan.id, slug=slug, title=title, area=area, description=description,
            description_html=render_markdown(description), phase=Phase.open, quorum=quorum,
            proposal_deadline=_ago(-(21 + position), hour=23, minute=59), moderation=Moderation(moderation_mode),
            vote_mode=VoteMode(vote_mode), position=position,
        )
        tavolo.facilitators.append(story.facilitator)
        db.session.add(tavolo)
        story.tavoli[slug] = tavolo
    db.session.flush()
    story.plan = plan
    # Who follows what: the tavoli of their interest.
    follows = {"citizen": ["anziani", "immigrazione"], "c_penna": ["anziani"], "c_amelia": ["minori-e-famiglia"],
               "c_narni": ["poverta-e-inclusione", "salute-mentale-e-dipendenze"], "scuola": ["minori-e-famiglia"]}
    for who, slugs in follows.items():
        for slug in slugs:
            tavoli_ops.follow_tavolo(story.tavoli[slug], story.people[who])


def _seats(story: Story) -> None:
    clock = story.clock
    for slug, org_keys in MEMBERS.items():
        tavolo = story.tavoli[slug]
        for n, org_key in enumerate(org_keys):
            delegate_key, substitute_key = SEATS[org_key]
            delegate = story.people[delegate_key]
            with clock.at(_ago(50 - n, hour=9)) as when:
                member, _what = meetings_ops.request_membership(
                    tavolo, delegate, delegate=delegate,
                    substitute=story.people[substitute_key] if substitute_key else None)
                member.requested_at = when
            with clock.at(_ago(48 - n, hour=11)) as when:
                meetings_ops.accept_member(member, story.facilitator)
                member.decided_at = when
            story.members[(slug, org_key)] = member
    for slug, org_key in REQUESTED:
        delegate_key, _substitute_key = SEATS[org_key]
        with clock.at(_ago(2, hour=16)) as when:
            member, _what = meetings_ops.request_membership(story.tavoli[slug], story.people[delegate_key],
                                                            delegate=story.people[delegate_key])
            member.requested_at = when


def _objectives(story: Story) -> None:
    for slug, items in OBJECTIVES.items():
        tavolo = story.tavoli[slug]
        for title, body, revisions in items:
            with story.clock.at(_ago(45, hour=12)) as when:
                objective = tavoli_ops.create_objective(tavolo, story.facilitator, title=title, body=body)
                tavoli_ops.change_objective_status(objective, "published", story.facilitator)
                objective.published_at = objective.revisions[0].edited_at = when
            for (new_title, new_body, note), days in zip(revisions, (35, 28), strict=False):
                with story.clock.at(_ago(days, hour=12)) as when:
                    revision = tavoli_ops.update_objective(objective, story.facilitator, title=new_title,
                                                           body=new_body, note=note)
                    revision.edited_at = when
            story.objectives.setdefault(slug, []).append(objective)


def _proposals(story: Story) -> None:
    for key, slug, objective_index, who, days, title, body in PROPOSALS:
        tavolo = story.tavoli[slug]
        author = story.people[who]
        with story.clock.at(_ago(days, hour=9 + days % 8)) as when:
            proposal = proposals_ops.submit_proposal(
                tavolo=tavolo, author=author, title=title, body=body, organisation=author.represented_organisation,
                objective=story.objectives[slug][objective_index] if objective_index is not None else None)
            proposal.created_at = proposal.updated_at = when
            if proposal.published_at is not None:
                proposal.published_at = when
        if proposal.state == "submitted" and key not in PENDING:
            with story.clock.at(when + timedelta(hours=3)) as later:
                moderation.approve(proposal, story.facilitator)
                proposal.published_at = later
        story.proposals[key] = proposal
    slug, objective_index, days, title, body, author_name, protocol = PAPER
    with story.clock.at(_ago(days, hour=11)) as when:
        paper = proposals_ops.record_offline_proposal(
            tavolo=story.tavoli[slug], recorder=story.facilitator, channel="paper", protocol_number=protocol,
            title=title, body=body, author_name=author_name, objective=story.objectives[slug][objective_index])
        paper.created_at = paper.updated_at = paper.published_at = when
    story.proposals["sfratti"] = paper


def _conversation(story: Story) -> None:
    """Comments (with replies and stances), votes from every category, reports."""
    clock = story.clock
    comments = []
    for n, (key, who, stance, body, reply_to, days) in enumerate(COMMENTS):
        proposal = story.proposals[key]
        with clock.at(_ago(days, hour=14 + n % 6)) as when:
            comment = comments_ops.create_comment(proposal, story.people[who], body=body, stance=stance,
                                                  parent=comments[reply_to] if reply_to is not None else None)
            if comment.visibility == "pending" and n not in PENDING_COMMENTS:
                moderation.approve(comment, story.facilitator)
            comment.created_at = when
        comments.append(comment)
    values = ("for", "for", "for", "against", "for", "abstain", "for", "for", "against", "for", "for")
    for p, (key, *_rest) in enumerate(PROPOSALS):
        proposal = story.proposals[key]
        if key in PENDING:
            continue
        # Between 5 and 12 ballots; the proposals the plan took in were debated most.
        count = 15 if key in DEBATED else 5 + (p * 5) % 8
        with clock.at(min(proposal.created_at + timedelta(days=1), utcnow().replace(microsecond=0)), Vote):
            for v in range(count):
                voter = story.people[VOTERS[(p * 3 + v * 7) % len(VOTERS)]]
                # The page offers no ballot to the author, nor to a citizen where organisations vote.
                if voter.id == proposal.author_id or not proposal.can_vote(voter):
                    continue
                votes_ops.cast_vote(proposal, voter, values[(p + v * 2) % len(values)])
    for index, who, reason, note in FLAGS:
        with clock.at(comments[index].created_at + timedelta(hours=5), Flag):
            moderation.flag(comments[index], story.people[who], reason=reason, note=note)


def _answers(story: Story) -> None:
    f = story.facilitator
    for n, (key, (outcome, motivation)) in enumerate(ANSWERS.items()):
        proposal = story.proposals[key]
        with story.clock.at(_ago(12 - n, hour=17)) as when:
            proposals_ops.answer_proposal(proposal, f, outcome=outcome, motivation=motivation)
            proposal.answered_at = when
    for n, key in enumerate(REVIEWING):
        with story.clock.at(_ago(9 - n, hour=12)):
            proposals_ops.start_review(story.proposals[key], f)
    merged, target, motivation = MERGED
    with story.clock.at(_ago(36, hour=17)) as when:
        proposals_ops.merge_proposal(story.proposals[merged], story.proposals[target], f, motivation=motivation)
        story.proposals[merged].answered_at = when


def _decision(minutes, story: Story, subject, outcome: str, motivation: str, *, votes=None, dissents=None,
              present=(), decision=None):
    is_proposal = subject.__tablename__ == "proposal"
    counted = votes is not None
    return meetings_ops.save_decision(minutes, story.facilitator, meetings_ops.DecisionFields(
        proposal=subject if is_proposal else None, objective=None if is_proposal else subject, outcome=outcome,
        method="vote" if counted else "consensus", votes_for=votes[0] if counted else None,
        votes_against=votes[1] if counted else None, votes_abstained=votes[2] if counted else None,
        motivation=motivation,
        dissents={story.orgs[k].id: text for k, text in (dissents or {}).items()}),
        decision, organisations={story.orgs[k].id: story.orgs[k] for k in present})


def _held_meeting(story: Story, slug: str, *, days: int, title: str, place: str, agenda: str, text: str,
                  presence: dict[str, str], ends_after: timedelta, externals=(), participants=()):
    f = story.facilitator
    tavolo = story.tavoli[slug]
    starts = _ago(days, hour=15)
    # The facilitator records the meeting and drafts its minutes the morning after.
    with story.clock.at(_ago(days - 1, hour=10)) as when:
        meeting = meetings_ops.record_held_meeting(tavolo, f, meetings_ops.MeetingFields(
            title=title, starts_at=starts, ends_at=starts + ends_after, place=place, online_url=None,
            agenda=agenda, proposals=[], objectives=[]))
        minutes = meetings_ops.start_minutes(meeting, f, tavolo=tavolo)
        meeting.created_at = minutes.created_at = when
        meetings_ops.update_minutes_text(minutes, f, agenda_items=meetings_ops.agenda_items_from(agenda), text=text)
        members = [m for (s, _k), m in story.members.items() if s == slug]
        meetings_ops.set_member_attendance(
            minutes, f, {story.members[(slug, k)].id: how for k, how in presence.items()}, members)
        for who in participants:
            meetings_ops.add_participant(minutes, f, story.people[who])
        for name, role in externals:
            meetings_ops.add_external(minutes, f, name=name, role=role)
    return meeting, minutes


def _meetings(story: Story) -> None:
    f = story.facilitator
    p = story.proposals

    # --- last month: the Anziani tavolo decides on domiciliarità, then corrects its minutes
    anziani_present = ["spi", "cisl", "cerchio", "avaa", "usl"]
    _meeting, minutes = _held_meeting(
        story, "anziani", days=33, title="Domiciliarità e trasporto sociale",
        place="Sala consiliare del Comune di Narni, piazza dei Priori",
        agenda="- Apertura e verifica del numero legale\n- Proposte sulla domiciliarità\n- Trasporto sociale nei "
               "borghi\n- Varie ed eventuali",
        text="La facilitatrice apre l'incontro alle 15:10 e verifica il numero legale.\n\n"
             "Si discutono le proposte sulla domiciliarità raccolte sulla piattaforma. La Cooperativa Il Cerchio "
             "presenta la stima dei costi dell'assistenza il sabato; l'Azienda USL chiede di coordinarla con "
             "l'assistenza domiciliare integrata. Sul trasporto sociale intervengono i rappresentanti dei comuni "
             "di Penna in Teverina e Alviano.\n\nL'incontro si chiude alle 17:30.",
        presence={"spi": "delegate", "cisl": "substitute", "cerchio": "delegate", "avaa": "delegate",
                  "usl": "delegate", "auser": "absent"},
        participants=["citizen"], ends_after=timedelta(hours=2, minutes=45),
        externals=[("Sonia Angelini", "Assistente sociale del Comune di Amelia"),
                   ("Carlo Pennacchi", "Assessore ai servizi sociali del Comune di Penna in Teverina")])
    motivations = {
        "sabato": "Accolta: dal prossimo trimestre l'assistenza domiciliare copre anche il sabato mattina a Narni "
                  "e Amelia, con due operatrici in più, coordinata con l'ADI del distretto.",
        "telefonia": "Accolta in parte: il servizio parte con i volontari di AVAA e SPI; il collegamento con il "
                     "servizio sociale è limitato ai casi segnalati dai comuni.",
        "trasporto": "Accolta: trasporto sociale a chiamata per Penna in Teverina, Alviano, Guardea e Giove, "
                     "prenotabile al numero del segretariato sociale.",
        "pasti": "Rinviata: si attende la disponibilità delle cucine scolastiche dei tre comuni.",
        "objective": "Approvato nella terza versione, con la formazione delle assistenti familiari.",
    }
    domiciliarita = story.objectives["anziani"][0]
    _decision(minutes, story, p["sabato"], "approved", motivations["sabato"], votes=(5, 0, 0),
              present=anziani_present)
    _decision(minutes, story, p["telefonia"], "partially_approved", motivations["telefonia"])
    _decision(minutes, story, p["trasporto"], "approved", motivations["trasporto"], votes=(4, 0, 1),
              present=anziani_present)
    _decision(minutes, story, p["pasti"], "deferred", motivations["pasti"])
    _decision(minutes, story, domiciliarita, "approved", motivations["objective"])
    meetings_ops.approve_minutes(minutes, f)

    # The Azienda USL voted against the Saturday service and asked for its dissent to be recorded:
    # the rettifica corrects the count and the closing time.
    rettifica = meetings_ops.create_rettifica(minutes, f)
    meetings_ops.update_minutes_text(
        rettifica, f, agenda_items=rettifica.agenda_items,
        text=rettifica.text.replace("alle 17:30", "alle 17:45") + "\n\n*Rettifica*: sulla proposta «Assistenza "
        "domiciliare anche il sabato» i voti erano 4 favorevoli e 1 contrario (Azienda USL), non 5 favorevoli; "
        "l'incontro si è chiuso alle 17:45.")
    sabato = next(d for d in rettifica.decisions if d.proposal_id == p["sabato"].id)
    _decision(rettifica, story, p["sabato"], "approved", motivations["sabato"], votes=(4, 1, 0),
              dissents={"usl": "Il servizio del sabato va integrato nell'ADI sanitaria: un servizio solo sociale "
                               "rischia di duplicare gli accessi."},
              present=anziani_present, decision=sabato)
    meetings_ops.approve_minutes(rettifica, f)
    story.decisions.update({f"anziani:{d.subject_type}:{d.subject_id}": d for d in rettifica.decisions})

    # --- last week: the Minori tavolo
    minori_present = ["ponte", "fondazione", "rondine", "scuola"]
    _meeting, minutes = _held_meeting(
        story, "minori-e-famiglia", days=6, title="Adolescenti e povertà educativa",
        place="Biblioteca comunale di Amelia, via della Repubblica",
        agenda="- Apertura\n- Spazio giovani a Otricoli\n- Doposcuola nei piccoli comuni\n- Nido estivo a Lugnano\n"
               "- Obiettivo sull'abbandono scolastico",
        text="L'incontro si apre alle 15:00. La APS Il Ponte illustra il progetto dello spazio giovani; "
             "l'Istituto comprensivo preferirebbe rafforzare il tempo pieno. Sul doposcuola si concorda di "
             "affiancare ai volontari un educatore professionale. Il nido estivo a Lugnano non è sostenibile con "
             "i bambini iscritti ad agosto.\n\nL'incontro si chiude alle 17:00.",
        presence={"ponte": "delegate", "fondazione": "delegate", "rondine": "substitute", "scuola": "delegate",
                  "arci": "absent"},
        participants=["c_amelia"], ends_after=timedelta(hours=2),
        externals=[("Valeria Sciarrini", "Educatrice del Centro per le famiglie")])
    _decision(minutes, story, p["spazio-giovani"], "approved",
              "Accolto: lo spazio giovani apre nei locali dell'ex scuola elementare di Otricoli tre pomeriggi a "
              "settimana, con un educatore della Cooperativa La Rondine.", votes=(3, 1, 0),
              dissents={"scuola": "L'Istituto avrebbe preferito investire le stesse risorse nel tempo pieno."},
              present=minori_present)
    _decision(minutes, story, p["doposcuola"], "partially_approved",
              "Accolta in parte: il doposcuola parte ad Alviano e Guardea, con volontari affiancati da un educatore "
              "professionale; negli altri comuni dal prossimo anno scolastico.")
    _decision(minutes, story, p["nido-estate"], "rejected",
              "Non accolta: ad agosto gli iscritti sarebbero tre; alle famiglie si offre il centro estivo di Amelia "
              "con il trasporto dell'Ambito.")
    _decision(minutes, story, story.objectives["minori-e-famiglia"][1], "approved",
              "Approvato nella terza versione, con gli spazi aggregativi per adolescenti.", votes=(4, 0, 0),
              present=minori_present)
    meetings_ops.approve_minutes(minutes, f)
    story.decisions.update({f"minori-e-famiglia:{d.subject_type}:{d.subject_id}": d for d in minutes.decisions})

    # --- next week: the Povertà tavolo is convened
    starts = _ago(-8, hour=16)
    with story.clock.at(_ago(3, hour=9)) as when:
        meeting = meetings_ops.schedule_meeting(story.tavoli["poverta-e-inclusione"], f, meetings_ops.MeetingFields(
            title="Emergenza casa e accoglienza invernale", starts_at=starts, ends_at=starts + timedelta(hours=2),
            place="Centro sociale di Narni Scalo, via Tiberina", online_url=None,
            agenda="- Apertura\n- Sportello casa per le famiglie sotto sfratto\n- Mensa sociale ad Amelia\n"
                   "- Tirocini di inclusione",
            proposals=[p["sfratti"], p["mensa"], p["tirocini"]], objectives=[]))
        meeting.created_at = when


# The plan record: areas (title, description, tavoli) with objectives (title, description, key of the
# tavolo's objective decided in the minutes, or None) and actions (title, description, beneficiaries,
# responsible body, comuni or None for all, key of the proposal decided in the minutes or None, budget
# [(funding source, year of the plan counting from 0, amount, note)], indicators [(name, unit, baseline,
# target)]). What the Ufficio di Piano wrote is adopted; what the minutes decided enters in aggiornamento n. 1.
AREAS = [
    ("Anziani e non autosufficienza",
     "Servizi per restare a casa propria il più a lungo possibile, e per chi assiste.", ["anziani"], [
         ("Sostenere la domiciliarità", "Più assistenza domiciliare e sollievo alle famiglie che assistono.",
          ("anziani", "objective", 0), [
              ("Assistenza domiciliare anche il sabato",
               "Due operatrici in più per coprire il sabato mattina a Narni e Amelia, coordinate con l'ADI.",
               "Persone non autosufficienti assistite a casa e le loro famiglie",
               "Comune di Narni – Ufficio di Piano", ["Narni", "Amelia"], ("anziani", "sabato"),
               [("fna", 0, "38000.00", ""), ("fna", 1, "42000.00", ""),
                ("comunali", 1, "9000.00", "Quota dei comuni di Narni e Amelia")],
               [("Famiglie raggiunte il sabato", "famiglie", "0", "60"),
                ("Ore di assistenza il sabato", "ore", "0", "2400")]),
              ("Trasporto sociale a chiamata nei borghi",
               "Un pulmino attrezzato prenotabile al segretariato sociale per raggiungere ambulatori e servizi.",
               "Anziani e persone senza auto dei borghi", "Comune di Amelia",
               ["Penna in Teverina", "Alviano", "Guardea", "Giove"], ("anziani", "trasporto"),
               [("comunali", 0, "18000.00", "Quattro comuni serviti"), ("fnps", 1, "20000.00", "")],
               [("Viaggi effettuati", "viaggi", "0", "1500")]),
              ("Assistenza domiciliare e pasti per le persone non autosufficienti",
               "Il servizio di assistenza domiciliare dell'Ambito, con i pasti a domicilio dove manca la mensa.",
               "Persone non autosufficienti", "Comune di Narni – Ufficio di Piano", None, None,
               [("fna", 0, "210000.00", ""), ("fna", 1, "215000.00", ""), ("fna", 2, "215000.00", ""),
                ("compartecipazione", 0, "18000.00", "Secondo l'ISEE")],
               [("Persone assistite a domicilio", "persone", "160", "190")]),
          ]),
         ("Contrastare la solitudine degli anziani soli", "Una rete di compagnia con il volontariato.", None, [
             ("Telefonia sociale «Pronto, come stai?»",
              "Telefonate settimanali agli anziani soli segnalati dai comuni, con i volontari di AVAA e SPI.",
              "Anziani soli", "Associazione Volontari Amerini per l'Assistenza", None, ("anziani", "telefonia"),
              [("fnps", 0, "9500.00", ""), ("fnps", 1, "9500.00", "")],
              [("Anziani chiamati ogni settimana", "persone", "0", "150")]),
         ]),
     ]),
    ("Famiglie, minori e giovani",
     "Il Centro per le famiglie, l'educativa e gli spazi per gli adolescenti.", ["minori-e-famiglia"], [
         ("Potenziare il Centro per le famiglie",
          "Sportelli di sostegno alla genitorialità e mediazione familiare.", None, [
              ("Centro per le famiglie Narni–Amelia",
               "Sportelli settimanali a Narni e ad Amelia; mediazione familiare su appuntamento.",
               "Famiglie con figli minori", "Comune di Narni – Ufficio di Piano", None, None,
               [("fnps", 0, "56000.00", ""), ("fnps", 1, "56000.00", ""), ("fnps", 2, "56000.00", "")],
               [("Famiglie prese in carico", "famiglie", "120", "200")]),
              ("Assistenza educativa domiciliare per i minori",
               "Educatori a casa delle famiglie seguite dal servizio sociale, su progetto condiviso.",
               "Minori e famiglie seguiti dal servizio sociale", "Cooperativa Sociale La Rondine", None, None,
               [("fse_plus", 0, "24000.00", ""),
                ("altro", 0, "6000.00", "Cofinanziamento della Fondazione Comunità Narnese")],
               [("Famiglie seguite", "famiglie", "25", "40")]),
          ]),
         ("Contrastare la povertà educativa",
          "Tutoraggio, doposcuola e spazi aggregativi nei comuni più piccoli.", ("minori-e-famiglia", "objective", 1), [
              ("Spazio giovani a Otricoli",
               "Tre pomeriggi a settimana nell'ex scuola elementare, con un educatore della Cooperativa La Rondine.",
               "Ragazzi tra 11 e 18 anni", "Comune di Otricoli", ["Otricoli"], ("minori-e-famiglia", "spazio-giovani"),
               [("fse_plus", 1, "25000.00", ""), ("comunali", 1, "5000.00", "Locali e utenze")],
               [("Ragazzi iscritti", "ragazzi", "0", "40")]),
              ("Doposcuola solidale ad Alviano e Guardea",
               "Volontari affiancati da un educatore professionale, due pomeriggi a settimana.",
               "Alunni della scuola primaria e secondaria di primo grado",
               "Associazione Volontari Amerini per l'Assistenza", ["Alviano", "Guardea"],
               ("minori-e-famiglia", "doposcuola"), [("fnps", 1, "12000.00", "")],
               [("Alunni seguiti", "alunni", "0", "35")]),
          ]),
     ]),
    ("Disabilità e salute mentale",
     "Vita indipendente, dopo di noi, inclusione lavorativa con l'Azienda USL.",
     ["disabilita", "salute-mentale-e-dipendenze"], [
         ("Vita indipendente e dopo di noi", "Percorsi di autonomia abitativa e lavorativa (legge 112/2016).", None, [
             ("Percorsi di autonomia abitativa",
              "Progetti personalizzati e un appartamento per l'autonomia a Narni, con educatori a ore.",
              "Giovani adulti con disabilità", "Comune di Narni – Ufficio di Piano", None, None,
              [("pnrr", 0, "115000.00", "Missione 5, percorsi di autonomia"),
               ("altro", 1, "40000.00", "Fondo per il dopo di noi")],
              [("Persone in percorso di autonomia", "persone", "0", "4")]),
             ("Centro diurno e inserimenti lavorativi per la salute mentale",
              "Laboratori, tirocini e borse lavoro per le persone seguite dal Centro di salute mentale.",
              "Persone seguite dal Centro di salute mentale", "Azienda USL Umbria 2 e Comune di Narni", None, None,
              [("fnps", 1, "30000.00", ""), ("altro", 1, "12000.00", "Quota sanitaria dell'Azienda USL")],
              [("Persone in tirocinio", "persone", "0", "12")]),
         ]),
     ]),
    ("Povertà, casa e inclusione",
     "Servizi a bassa soglia, emergenza casa, mediazione culturale.", ["poverta-e-inclusione", "immigrazione"], [
         ("Mantenere i servizi a bassa soglia", "Pronto intervento sociale e sostegno all'abitare.", None, [
             ("Pronto intervento sociale e accoglienza d'emergenza",
              "Reperibilità del servizio sociale e posti di accoglienza per chi resta senza casa.",
              "Persone senza dimora e famiglie in emergenza abitativa", "Comune di Narni", None, None,
              [("fondo_poverta", 0, "48000.00", ""), ("fondo_poverta", 1, "50000.00", ""),
               ("comunali", 0, "6000.00", "")],
              [("Persone accolte", "persone", "0", "80")]),
         ]),
         ("Mediazione culturale nei servizi", "Mediatori e corsi di italiano.", None, [
             ("Mediazione culturale nelle scuole e nei servizi sociali",
              "Mediatori su chiamata delle scuole e del servizio sociale, in arabo, rumeno, albanese e urdu.",
              "Famiglie straniere", "ARCI Lugnano in Teverina APS", None, None,
              [("altro", 0, "14000.00", "FAMI – Fondo asilo, migrazione e integrazione")],
              [("Ore di mediazione", "ore", "0", "400")]),
         ]),
     ]),
]
ADOPTED_DAYS_AGO = 62
# Monitoring of the actions the plan adopted: (action title, new status or None, days ago, text, indicator values)
PROGRESS = [
    ("Centro per le famiglie Narni–Amelia", "in_progress", 45, "Sportelli aperti a Narni e ad Amelia.", [131]),
    ("Centro per le famiglie Narni–Amelia", None, 9, "Avviata la mediazione familiare su appuntamento.", [148]),
    ("Assistenza domiciliare e pasti per le persone non autosufficienti", "in_progress", 50,
     "Servizio confermato in tutti i comuni; pasti a domicilio a Narni e Amelia.", [171]),
    ("Percorsi di autonomia abitativa", "in_progress", 30,
     "Firmata la convenzione per l'appartamento di Narni; lavori di adattamento in corso.", [0]),
    ("Percorsi di autonomia abitativa", None, 6, "Concluso l'adattamento: i primi due ragazzi entrano a gennaio.",
     [2]),
    ("Pronto intervento sociale e accoglienza d'emergenza", "in_progress", 20,
     "Reperibilità attiva; in dicembre sei posti letto nella struttura di via Tuderte.", [23]),
    ("Mediazione culturale nelle scuole e nei servizi sociali", "in_progress", 15,
     "Mediatori chiamati da tre scuole e dal servizio sociale di Amelia.", [64]),
    ("Centro diurno e inserimenti lavorativi per la salute mentale", "suspended", 12,
     "Sospesa in attesa della convenzione tra Azienda USL e comuni.", []),
]


def _action_fields(story: Story, title, description, beneficiaries, body, comuni, start: date, end: date):
    return record_ops.ActionFields(
        title=title, description=description, beneficiaries=beneficiaries, responsible_body=body,
        start_date=start, end_date=end, all_comuni=comuni is None,
        comuni=[story.comuni[c] for c in comuni or []])


def _fill_action(story: Story, action, budget, indicators) -> None:
    for source, year, amount, note in budget:
        record_ops.add_budget_line(action, story.admin, amount=Decimal(amount), funding_source=source,
                                   year=story.plan.period_start + year, note=note)
    for name, unit, baseline, target in indicators:
        record_ops.add_indicator(action, story.admin, name=name, unit=unit, baseline=Decimal(baseline),
                                 target=Decimal(target))


def _plan_record(story: Story) -> None:
    admin, plan, clock = story.admin, story.plan, story.clock
    today = utcnow().date()
    start, end = date(plan.period_start, 1, 1), date(plan.period_end, 12, 31)

    def decision_of(key):
        slug, what = key[0], key[1]
        subject_id = story.objectives[slug][key[2]].id if what == "objective" else story.proposals[what].id
        kind = "objective" if what == "objective" else "proposal"
        return story.decisions[f"{slug}:{kind}:{subject_id}"]

    # Drafted by the Ufficio di Piano and adopted before the meetings: the actions without an origin.
    from_minutes, objective_inputs, actions = [], [], {}
    with clock.at(_ago(ADOPTED_DAYS_AGO + 15, hour=11), PlanRevision):
        for area_title, area_description, slugs, objectives in AREAS:
            area = record_ops.create_area(plan, admin, title=area_title, description=area_description,
                                          tavoli=[story.tavoli[s] for s in slugs])
            for objective_title, objective_description, objective_input, action_rows in objectives:
                objective = record_ops.create_objective(area, admin, title=objective_title,
                                                        description=objective_description)
                if objective_input:
                    objective_inputs.append((objective, objective_input))
                for row in action_rows:
                    title, description, beneficiaries, body, comuni, input_key, budget, indicators = row
                    if input_key:
                        from_minutes.append((objective, row))
                        continue
                    action = record_ops.create_action(objective, admin, _action_fields(
                        story, title, description, beneficiaries, body, comuni, start, end))
                    _fill_action(story, action, budget, indicators)
                    actions[title] = action
    with clock.at(_ago(ADOPTED_DAYS_AGO, hour=12)):
        plan_ops.change_plan_status(plan, PlanStatus.adopted, admin,
                                    adoption_reference="Deliberazione del Comitato dei Sindaci n. 4",
                                    adoption_date=today - timedelta(days=ADOPTED_DAYS_AGO))
    with clock.at(_ago(ADOPTED_DAYS_AGO - 2, hour=9)):
        plan_ops.change_plan_status(plan, PlanStatus.monitoring, admin)
    for title, status, days, text, values in PROGRESS:
        action = actions[title]
        with clock.at(_ago(days, hour=13), PlanRevision, ProgressUpdate):
            if status:
                record_ops.set_action_status(action, admin, status)
            record_ops.add_progress_update(
                action, admin, reported_on=today - timedelta(days=days), text=text,
                values={i.id: Decimal(v) for i, v in zip(action.indicators, values, strict=False)})

    # Aggiornamento n. 1, today: the decisions of the minutes approved today enter the plan.
    record_ops.open_aggiornamento(plan, admin, reason="Recepire le decisioni degli incontri dei tavoli «Anziani» "
                                  "e «Minori, giovani e famiglia».")
    for objective, key in objective_inputs:
        record_ops.attach_inputs(objective, admin, [decision_of(key)])
    for objective, row in from_minutes:
        title, description, beneficiaries, body, comuni, input_key, budget, indicators = row
        action = record_ops.create_action(
            objective, admin, _action_fields(story, title, description, beneficiaries, body, comuni, today, end),
            decisions=[decision_of(input_key)])
        _fill_action(story, action, budget, indicators)
    record_ops.close_aggiornamento(plan, admin, reference="Deliberazione del Comitato dei Sindaci n. 9",
                                   approval_date=today)


def demo_user(email: str) -> User | None:
    return db.session.execute(select(User).where(User.email == email)).scalar_one_or_none()
