"""The kind of answer a question asks for, and whether a sentence holds one.

"¿Cuándo?" wants a date, "¿A qué hora?" an hour, "¿Cuánto costó?" an amount of money,
"¿Cuántos?" a count, "¿Qué edad?" an age, "¿Cuánto tiempo?" a duration, "¿Qué porcentaje?" a
share, "¿Quién?" or "¿Qué actriz?" a name, "¿Dónde?" a place, "¿De qué país es?" a nationality
or a country, "¿Por qué?" a cause. A sentence that holds the asked kind (beyond what the
question already says) is evidence that it states the fact; one that only repeats the
question's words is not. Sentence scoring uses it as a feature, the "not in the article"
decision as its main evidence, and a follow-up that asks nothing but a kind is answered only
by a sentence that holds it.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Callable

from .lemmas import spanish_lemmas
from .lexical import fold

_MONTHS = "enero febrero marzo abril mayo junio julio agosto septiembre setiembre octubre noviembre diciembre"
# News dates its events by weekday ("el pasado sábado", "este jueves") as often as by month.
_DAYS = "lunes martes miercoles jueves viernes sabado domingo ayer anoche anteayer hoy"
_NUMBER_WORDS = ("cero|uno|una|dos|tres|cuatro|cinco|seis|siete|ocho|nueve|diez|once|doce|trece|catorce|quince|"
                 "veinte|veinticinco|treinta|cuarenta|cincuenta|sesenta|setenta|ochenta|noventa|cien|ciento|"
                 "cientos|doscientos|trescientos|quinientos|mil|millon|millones|decenas|centenares|miles|"
                 "mitad|doble|triple|docena|docenas")
_QUANTITY = rf"(?:\d[\d.,]*|{_NUMBER_WORDS}|un|varios|varias|unos|unas|medio|media)"
_UNITS_OF_TIME = "segundos|minutos|horas|dias|semanas|meses|anos|decadas|siglos|segundo|minuto|hora|dia|semana|mes|ano"

# Patterns over the folded sentence (lowercase, no accents), except names and places.
_FOUND: dict[str, re.Pattern[str]] = {
    # A date as far back or ahead as it lies ("desde hace cinco años", "dentro de dos semanas", "en
    # las últimas dos semanas") answers "¿Desde cuándo…?" / "¿Cuándo…?" as well as a calendar date.
    "date": re.compile(r"\b(1\d{3}|2[01]\d{2}|siglos? [ivxl]+|siglo|\d{1,2}([/.-])\d{1,2}\2\d{2,4}|"
                       + "|".join(_MONTHS.split() + _DAYS.split())
                       + rf"|(?:hace|dentro de|(?:las|los) (?:ultimas|ultimos|pasadas|pasados|proximas|proximos)) "
                       + rf"{_QUANTITY} ({_UNITS_OF_TIME})|\d{{1,4}} [ad]\. ?c)\b"),
    "time": re.compile(r"\b(\d{1,2}[:.]\d{2}\s*(horas|hrs?|h|am|pm)?|\d{1,2}\s*(horas|hrs|am|pm|a\.m|p\.m)|"
                       r"a las (\d{1,2}|dos|tres|cuatro|cinco|seis|siete|ocho|nueve|diez|once|doce)|a la una|"
                       r"mediodia|medianoche|madrugada|de la manana|de la tarde|de la noche)\b"),
    "money": re.compile(r"([$€£]\s?\d[\d.,]*|\b\d[\d.,]*\s*(mil |millones de |millon de |mdp|mdd)?"
                        r"(pesos|dolares|euros|libras|bolivares|soles|yenes|usd|eur|mxn|mdp|mdd)\b|"
                        r"\b(mil|millones|millon|miles) de (pesos|dolares|euros)\b|"
                        # "los 140.000 millones que recibirá España": millions of nothing named are money
                        r"\b\d[\d.,]*\s*(mil )?millon(es)?\b(?! de (?!euros|dolares|pesos)))"),
    "percent": re.compile(rf"(\d[\d.,]*\s*%|\b{_QUANTITY} por ciento)"),
    # "tiene 45," and "a la edad de siete meses" are ages; "tiene dos juicios" is not.
    "age": re.compile(rf"\b(de {_QUANTITY} anos|{_QUANTITY} anos de edad|(tiene|tenia|tenian|cumplio|cumple|cumplira|"
                      rf"edad de|a los) {_QUANTITY}( anos| meses|(?=\s*[,.;:)]|\s*$)))\b"),
    # "¿Cuánto tiempo lleva…?" is answered by the year it began as often as by a length.
    "duration": re.compile(rf"\b({_QUANTITY} ({_UNITS_OF_TIME})|(milesimas|centesimas|decimas) de segundo|"
                           rf"durante (todo |toda |mas de )?\w+ ({_UNITS_OF_TIME})|"
                           r"desde\b[^.;]{0,30}?\b(1\d{3}|2[01]\d{2}))\b"),
    "reason": re.compile(
        r"\b(porque|debido a|ya que|puesto que|dado que|a causa de|por culpa de|gracias a|para|a fin de|"
        r"con el fin de|con el objetivo de|por lo que|por eso|motivo|motivos|razon|razones|causa|causas|"
        r"tras|luego de|despues de|al considerar|ante)\b"),
}
# "un joven de 20 años", "Pérez, de 34 años,", "20 años de edad": a person's age, not how long
# something lasted ("una condena de 20 años").
_AGE_OF_SOMEONE = re.compile(
    rf"(?:,|\b(?:joven|jovenes|hombre|mujer|nino|nina|menor|anciano|anciana|senor|senora|chico|chica|adolescente|"
    rf"bebe|persona|sujeto|individuo|muchacho|muchacha|varon|paciente|victima))\s+de {_QUANTITY} anos\b|"
    rf"\b{_QUANTITY} anos de edad\b|\b(?:tiene|tienen|tenia|tenian|cumple|cumplio|cumplira|cumplia) {_QUANTITY} anos\b")
# "la población mayor de 80 años", "menos de 18 años": an age bound, nobody's age (nor a length); "un menor
# de 15 años" is a minor's age.
_AGE_BOUND = re.compile(rf"\b(?:mayor|mayores|menores|mas|menos) de {_QUANTITY} anos\b")
_NUMERAL = re.compile(r"\d[\d.,]*\d|\d")
_YEAR = re.compile(r"1\d{3}|2[01]\d{2}")
_AMOUNT_WORD = re.compile(rf"\b({_NUMBER_WORDS})\b")
_PROPER = re.compile(r"(?<!^)(?<![.!?¿¡]\s)\b[A-ZÁÉÍÓÚÑ][\wáéíóúñü]+")
# A place: a name after a preposition of place ("en Pionyang", "desde la Casa Blanca"). "a" and
# "de" name a place only when the question asks with them ("¿Adónde viajó?", "¿De dónde salió?"):
# otherwise "de la Policía Federal", "a Andrés Manuel" would answer "¿Dónde lo dijo?".
_PLACE_NAME = r"\s+(?:el\s+|la\s+|los\s+|las\s+)?([A-ZÁÉÍÓÚÑ][\wáéíóúñü]+)"
_PLACE = re.compile(rf"\b(?:en|desde|hacia|hasta){_PLACE_NAME}")
_PLACE_FROM_TO = re.compile(rf"\b(?:en|desde|hacia|hasta|a|de){_PLACE_NAME}")
_ASKED_FROM_TO = re.compile(r"\b(?:a donde|adonde|de donde)\b")

# Nouns naming people by what they do: "¿Qué magistrado…?", "y q actrices la apoyaron" ask for a name
# as "¿Quién…?" does. Read only right after the question word ("¿Con qué productor…?"), where no
# conjunction "que" stands.
_PEOPLE = ("actor actriz actrices jugador jugadora futbolista deportista atleta tenista piloto boxeador periodista "
           "reportero reportera conductor conductora presentador presentadora locutor locutora comentarista "
           "presidente presidenta expresidente mandatario mandataria politico politica diputado diputada senador "
           "senadora legislador legisladora ministro ministra secretario secretaria gobernador gobernadora alcalde "
           "alcaldesa funcionario funcionaria candidato candidata dirigente lider vocero vocera portavoz embajador "
           "embajadora canciller juez jueza magistrado magistrada fiscal abogado abogada procurador procuradora "
           "medico medica doctor doctora cientifico cientifica investigador investigadora experto experta "
           "especialista artista cantante musico musica compositor compositora autor autora escritor escritora poeta "
           "pintor pintora director directora productor productora cineasta entrenador entrenadora portero delantero "
           "capitan capitana empresario empresaria dueno duena propietario propietaria rector rectora profesor "
           "profesora maestro maestra rey reina principe princesa papa obispo sacerdote emperador emperatriz filosofo "
           "filosofa matematico matematica inventor inventora ingeniero ingeniera arquitecto arquitecta personaje "
           "persona famoso famosa integrante miembro")

# "¿De qué país es…?", "¿De dónde es…?" ask where someone is from: answered by a nationality as
# often as by a country ("el defensa de origen paraguayo", "nacido en Rosario"). The demonyms of
# the countries news names most, folded, with their feminine and plural forms.
_DEMONYMS = ("mexicano argentino chileno peruano colombiano venezolano ecuatoriano boliviano paraguayo uruguayo "
             "cubano dominicano puertorriqueno hondureno salvadoreno guatemalteco panameno brasileno americano "
             "norteamericano latinoamericano sudamericano centroamericano haitiano jamaicano italiano ruso sueco "
             "noruego griego turco egipcio sirio libio argelino tunecino nigeriano sudafricano keniano ucraniano "
             "bielorruso checo eslovaco esloveno rumano bulgaro serbio austriaco australiano coreano norcoreano "
             "surcoreano filipino indonesio indio hindu chino afgano europeo africano asiatico britanico suizo hungaro "
             "polaco lituano estonio frances ingles portugues holandes irlandes escoces japones "
             "finlandes danes libanes tailandes neozelandes aleman catalan espanol estadounidense canadiense "
             "costarricense nicaraguense marroqui israeli iraqui irani pakistani saudi yemeni catari belga croata "
             "vietnamita")
_INFLECTED = {"o": "(?:o|a|os|as)", "s": "(?:|a|es|as)", "n": "(?:|a|es|as)", "l": "(?:|a|es|as)", "e": "s?",
              "i": "(?:|es|s)", "a": "s?", "u": "(?:|es|s)"}


def _demonym(word: str) -> str:
    """A folded demonym with its feminine and plural forms ("paraguay(o|a|os|as)", "frances(a|es|as)")."""
    return word[:-1] + _INFLECTED["o"] if word.endswith("o") else word + _INFLECTED[word[-1]]


_DEMONYM = re.compile(rf"\b({'|'.join(sorted({_demonym(w) for w in _DEMONYMS.split()}))})\b")

# Question words -> the kind of answer they ask for, most specific first ("¿cuántos años tiene?"
# is an age before it is a count; "¿cuántos años de cárcel?" a duration).
_EXPECT = (
    (re.compile(r"\b(a que hora|que hora|a que horas)\b"), "time"),
    (re.compile(r"\b(que edad|a que edad|cuantos anos (tiene|tenia|tienen|tenian|cumple|cumplio))\b"), "age"),
    (re.compile(rf"\b(cuanto tiempo|durante cuanto|hace cuanto|por cuanto tiempo|cada cuanto|cuantos ({_UNITS_OF_TIME})|"
                rf"cuantas (horas|semanas)|cuanto (duro|dura|duran|duraron|durara|tardo|tarda|tardaron|tardara))\b"),
     "duration"),
    (re.compile(r"\b(que porcentaje|en que porcentaje|(en )?cuanto (subio|subieron|bajo|bajaron|aumento|aumentaron|"
                r"crecio|crecieron|cayo|cayeron|se redujo|se redujeron|disminuyo|disminuyeron))\b"), "percent"),
    (re.compile(r"\b(cuant[oa] (dinero|plata|lana|pasta|guita|cuesta|cuestan|costo|costaron|costara|vale|valen|"
                r"valia|pago|pagaron|pagara|pagan|gasto|gastaron|gastara|invirtio|invertira|invierte|recaudo|"
                r"recaudaron|cobra|cobran|cobro|"
                r"gana|ganan|gano|debe|deben|presupuesto)|cuantos (euros|dolares|pesos|millones)|que precio|"
                r"que monto|(cual|que) (es|fue|sera) el (precio|costo|monto|valor|presupuesto)|"
                # "¿A cuánto asciende el valor de lo robado?", "¿De cuánto sería la multa?"
                r"cuanto( \w+){0,3} (el|la|los|las|su|sus) (valor|precio|costo|coste|monto|multa|sueldo|salario|"
                r"fianza|deuda|premio|indemnizacion|recompensa|penalizacion|pago|presupuesto|inversion))\b"), "money"),
    (re.compile(r"\b(cuando|que anos?|en que anos?|que fechas?|que siglo|que dias?|que mes|que meses|desde cuando|"
                r"hasta cuando)\b"),
     "date"),
    (re.compile(r"\b(cuantos|cuantas|cuanto|cuanta|que cantidad|que numero)\b"), "count"),
    (re.compile(r"\b(quien|quienes|a quien|de quien|a quienes)\b"), "person"),
    (re.compile(rf"(?:^|[¿,;:]|\by\s)\s*(?:(?:a|de|con|para|por|entre|contra)\s+)?(?:que|q|cual|cuales)\s+"
                rf"(?:otros?\s+|otras?\s+)?(?:{'|'.join(_PEOPLE.split())})(?:s|es)?\b"), "person"),
    (re.compile(r"\bpor que\b|^\W*(y\s+)?para que\b|\b(que motivo|que razon|a que se debe|cual fue (el motivo|la causa|"
                r"la razon)|cual es (el motivo|la causa|la razon)|que provoco|que causo)\b"), "reason"),
    (re.compile(r"\b(de que (pais|paises|nacionalidad|origen)|que nacionalidad|de donde (es|son|era|eran))\b"),
     "origin"),
    (re.compile(r"\b(donde|adonde|de donde|en que lugar|en que pais|en que ciudad|en que region|en que estado|"
                r"en que municipio|en que zona)\b"), "place"),
)
KINDS = tuple(dict.fromkeys(kind for _, kind in _EXPECT))
# The kinds whose bonus helps choose the sentence. A reason or a place as a bonus was flat to
# harmful on the SQuAD-es tune half (answer holds gold 0.7725 -> 0.7715: most Wikipedia
# sentences name a place, many say "para"); those two only filter a follow-up that asks
# nothing but "¿Por qué?" / "¿Dónde?" (see ``followup.rests_on_story``). Where someone is from
# counts: a nationality is rarer than a place and names what was asked.
SCORED_KINDS = frozenset({"date", "time", "money", "count", "age", "duration", "percent", "person", "origin"})


# "cuando" without its accent is the conjunction ("¿Qué se forma cuando…?", "Cuando Fox se fue,
# ¿quién lo reemplazó?") once another question word asks: written with its accent anywhere, or
# opening the question or a clause ("que paso cuando llego la policia", typed without accents).
_WHEN = re.compile(r"\bcuando\b")
_OTHER_QUESTION_WORD = re.compile(
    r"\b(qué|quién|quiénes|cuál|cuáles|cómo|dónde|adónde|cuánto|cuánta|cuántos|cuántas)\b|"
    r"(?:^|[¿,;:])\W*(?:y\s+)?(?:que|q|quien|quienes|cual|cuales|como|donde|cuanto|cuanta|cuantos|cuantas|"
    r"por que|por q|pq)\b")

_OPENS_WITH_WHY = re.compile(r"^\W*(?:y\s+)?por que\b")


def expected_kind(question: str) -> str | None:
    """The kind of answer a Spanish question word asks for, if it says."""
    lowered = question.lower()
    asking = lowered.find("¿")
    if _WHEN.search(lowered) and (_OTHER_QUESTION_WORD.search(lowered) or asking > 0):
        # Before the "¿" it opens a clause ("Cuando la desigualdad es menor, ¿hay más…?").
        lowered = _WHEN.sub(" ", lowered) if asking <= 0 else _WHEN.sub(" ", lowered[:asking]) + lowered[asking:]
    folded = fold(lowered)
    if _OPENS_WITH_WHY.search(folded):  # "¿Por qué dice el ICE que montó…?" asks a reason, not an amount
        return "reason"
    return next((kind for pattern, kind in _EXPECT if pattern.search(folded)), None)


def found(kind: str | None, sentence: str) -> set[str]:
    """The values of ``kind`` a sentence holds (folded text, or names as written)."""
    if kind is None:
        return set()
    if kind == "person":
        return {m.group(0) for m in _PROPER.finditer(sentence)}
    if kind == "place":
        return set(_PLACE.findall(sentence))
    if kind == "origin":
        return {m.group(0) for m in _DEMONYM.finditer(fold(sentence))} | set(_PLACE_FROM_TO.findall(sentence))
    folded = fold(sentence)
    if kind == "count":
        return ({n for n in _NUMERAL.findall(sentence) if not _YEAR.fullmatch(n)}
                | set(_AMOUNT_WORD.findall(folded)) - {"una"})
    pattern = _FOUND.get(kind)
    if pattern is None:
        return set()
    bounds = [m.span() for m in _AGE_BOUND.finditer(folded)] if kind in ("age", "duration") else []
    ages = [m.span() for m in _AGE_OF_SOMEONE.finditer(folded)] if kind == "duration" else []
    return {m.group(0) for m in pattern.finditer(folded) if not any(a <= m.start() < b for a, b in ages + bounds)}


# "¿Qué día…?", "¿En qué año…?", "¿Qué mes…?" ask for a date that precise: a month does not say
# the day, nor a weekday the year.
_DATE_UNIT_ASKED = re.compile(r"\b(?:que|cual|cuál) (dia|ano|mes)(?:s|es)?\b")
# "el siete de agosto", "el primero de mayo": a day of the month written out.
_DAY_WORDS = ("primero|uno|dos|tres|cuatro|cinco|seis|siete|ocho|nueve|diez|once|doce|trece|catorce|quince|"
              "dieciseis|diecisiete|dieciocho|diecinueve|veinte|veinti\\w+|treinta|treinta y uno")
_DATE_UNIT = {
    "dia": re.compile(rf"\b((\d{{1,2}}|{_DAY_WORDS}) de ({'|'.join(_MONTHS.split())})|{'|'.join(_DAYS.split())}|"
                      rf"dia \d{{1,2}}|\d{{1,2}}([/.-])\d{{1,2}}\4\d{{2,4}})\b"),
    "ano": re.compile(r"\b(1\d{3}|2[01]\d{2})\b"),
    "mes": re.compile(rf"\b({'|'.join(_MONTHS.split())})\b"),
}


# "¿Cuántos años pasó en prisión?" wants years or a longer unit ("cinco décadas", "desde 1979"),
# not "unos días".
_TIME_UNITS = ("segundo", "minuto", "hora", "dia", "semana", "mes", "ano", "decada", "siglo")
_DURATION_UNIT_ASKED = re.compile(rf"\bcuant[oa]s ({'|'.join(_TIME_UNITS)})")


@lru_cache(maxsize=256)
def _read_question(question: str) -> tuple[str, str | None, str | None]:
    """The folded question, the date unit it asks for ("dia", "ano", "mes") and the length unit
    ("¿Cuántos años…?"): read once per question, not once for each candidate sentence."""
    asked = fold(question)
    unit, length = _DATE_UNIT_ASKED.search(asked), _DURATION_UNIT_ASKED.search(asked)
    return asked, unit.group(1) if unit else None, length.group(1) if length else None


_BOUND_ASKED = re.compile(r"\b(?:minima|maxima|minimo|maximo|limite|a partir de que|desde que)\b")


def kind_match(kind: str | None, sentence: str, question: str) -> float:
    """1.0 when the sentence holds something of the expected kind that the question does not."""
    asked, date_unit, length_unit = _read_question(question)
    unit = date_unit if kind == "date" else None
    values = {m.group(0) for m in _DATE_UNIT[unit].finditer(fold(sentence))} if unit else found(kind, sentence)
    if kind == "place" and _ASKED_FROM_TO.search(asked):
        values = set(_PLACE_FROM_TO.findall(sentence))
    if kind == "duration" and length_unit:
        longer = _TIME_UNITS[_TIME_UNITS.index(length_unit):]
        values = {v for v in values if any(u in v for u in longer) or v.startswith("desde")}
    if kind == "age" and _BOUND_ASKED.search(asked):  # "¿Qué edad mínima…?": "mayores de 18 años" says it
        values |= {m.group(0) for m in _AGE_BOUND.finditer(fold(sentence))}
    if kind == "reason":  # "¿Para qué sirve?" is answered by a "para": the asked word counts here
        return 1.0 if values else 0.0
    return 1.0 if any(not re.search(rf"(?<!\w){re.escape(fold(v))}(?!\w)", asked) for v in values) else 0.0


# The noun a question asks about right after its question word: "¿Qué club…?", "¿Cuántos títulos…?".
# After "cuánto" a verb follows ("¿Cuánto ofrece…?"); after the other forms, the noun asked about.
# Words between the question word and its noun say which of them, not what: "¿A qué otros
# autores…?", "¿Qué dos figuras…?", "¿Qué tipo de célula…?".
_FOCUS = re.compile(r"\b(que|cual|cuales|cuantos|cuantas|cuanta)\s+(?:(?:otro|otra|otros|otras|mismo|misma|mismos|"
                    r"mismas|dos|tres|cuatro|cinco|tipo de|tipos de|clase de|clases de)\s+)*([a-zñ]{3,})")
_NOT_FOCUS = frozenset("es son fue fueron era eran sera seran ha han habia hay hubo se le les lo la los las del "
                       "para por con sin mas tan tanto tanta dice dijo pasa paso pasara hace hizo tiene tienen "
                       "tenia".split())


def focus_word(question: str) -> str | None:
    """The noun right after the question word, folded ("club" in "¿Qué club busca fichar…?").

    A verb right after "cuántos" leaves the counted noun unsaid ("¿Y cuántos pidió la
    acusación?" after a sentence in years): none, rather than a count that must stand before
    "pidió". So does any word after "cuántos"/"cuántas" that is not a plural ("¿Y cuántos salen
    este jueves?": the counted noun is plural, and the lemma table leaves out "salen", whose
    stem is its infinitive's). After "qué" the word is left as it is: folded, many nouns read
    as verbs ("río", "fuerza"), and there the focus only weighs a sentence that uses it.
    """
    for match in _FOCUS.finditer(fold(question)):
        asking, word = match.groups()
        if word in _NOT_FOCUS:
            continue
        plural_asked = asking in ("cuantos", "cuantas")
        if asking.startswith("cuant") and (_is_verb_form(word) or plural_asked and not word.endswith("s")):
            return None
        return word
    return None


_PRETERITE_PLURAL = re.compile(r"(aron|ieron)$")


def _is_verb_form(word: str) -> bool:
    """A folded word that is a conjugated verb: a preterite plural ("llegaron", "murieron"), or a
    form the lemma table leads to an infinitive it does not begin with ("pidio" → "pedir"; a
    plural noun such as "mujeres" begins with its "mujer")."""
    if _PRETERITE_PLURAL.search(word):
        return True
    lemma = spanish_lemmas().get(word, word)
    return lemma != word and lemma.endswith(("ar", "er", "ir")) and not word.startswith(lemma)


# Words that measure what is counted: "219,375 dosis de la vacuna" counts vaccines, "dos
# toneladas de cocaína" cocaine.
_MEASURE = frozenset("dosis unidades toneladas tonelada kilos kilogramos litros cajas paquetes piezas ejemplares lotes "
                     "cargamentos millones millon miles mil cientos decenas centenares de del la las los el".split())


# "¿Cuántas personas…?", "¿Cuánta gente…?" count people, whatever the story calls them.
_PEOPLE_COUNTED = ("personas gente muertos fallecidos victimas heridos lesionados detenidos arrestados desaparecidos "
                   "ninos ninas menores mujeres hombres adultos ancianos pacientes alumnos estudiantes habitantes "
                   "ciudadanos trabajadores empleados migrantes inmigrantes refugiados asistentes espectadores "
                   "voluntarios participantes manifestantes")
_ORDINALS = frozenset("primer primera primero segundo segunda tercer tercera tercero cuarto cuarta quinto quinta sexto "
                      "sexta septimo septima octavo octava noveno novena decimo decima".split())


@lru_cache(maxsize=4)
def _people_terms(analyse: Callable[[str], list[str]]) -> frozenset[str]:
    """The analysed terms of the nouns that count people (once per analyzer)."""
    return frozenset(analyse(_PEOPLE_COUNTED)) - frozenset(analyse("la"))


def value_before(sentence: str, focus_terms: set[str], analyse: Callable[[str], list[str]]) -> bool:
    """A number stands right before the focus noun ("cinco títulos", "8 policías"), or before
    what measures it or a part of it ("219,375 dosis de la vacuna", "dos de los misiles"): the
    count asked."""
    if focus_terms & _people_terms(analyse):  # "¿Cuánta gente…?" is answered by "ocho muertos" too
        focus_terms = focus_terms | _people_terms(analyse)
    folded = fold(sentence)
    if _counted_after(folded, focus_terms, analyse):
        return True
    tokens = re.findall(r"\w+", folded)
    for i, token in enumerate(tokens):
        # Right before the noun, "1130 pinturas" is a count though it reads like a year, "un
        # curso" answers "¿Cuántos cursos?" and "la tercera vez" "¿Cuántas veces?".
        if _NUMERAL.fullmatch(token) or _AMOUNT_WORD.fullmatch(token) or token == "un" or token in _ORDINALS:
            if any(focus_terms.intersection(analyse(t)) for t in tokens[i + 1 : i + 4]):
                return True
            rest = tokens[i + 1 : i + 7]
            measured = next((j for j, t in enumerate(rest) if t not in _MEASURE), len(rest))
            if 0 < measured < len(rest) and focus_terms.intersection(analyse(rest[measured])):
                return True
    return False


# "el número de abortos inseguros podría ser de entre 51 mil y 82 mil": the count after the noun.
_COUNT_NOUN = re.compile(r"\b(?:numero|cifra|total|cantidad) del? (\w+)")
_COUNT_REACH = 80  # characters from the counted noun to its number


def _counted_after(folded: str, focus_terms: set[str], analyse: Callable[[str], list[str]]) -> bool:
    """"El número de <focus> … <number>" in a folded sentence: a word that names a count, the focus
    noun right after it, and a number that counts (not a date, a length of time or a share) soon
    after that."""
    for match in _COUNT_NOUN.finditer(folded):
        if focus_terms.intersection(analyse(match.group(1))):
            after = folded[match.end() : match.end() + _COUNT_REACH]
            if any(_counts(after, number) for number in _QUANTITY_RUN.finditer(after)):
                return True
    return False


# What follows a number that measures time, a date, a share or money, not a count of things.
_NOT_COUNTED = re.compile(rf"\s*(?:%|por ciento|de ({'|'.join(_MONTHS.split())})\b|({_UNITS_OF_TIME})\b|"
                          r"(?:mil |millones de |millon de |de )?(pesos|dolares|euros|libras|mdp|mdd|usd)\b|[.:/-]\d)")


# A number as written: "2", "51 mil", "dos millones", "veinte mil", not "19" of "COVID-19", the
# "30" of "10:30" nor the "ciento" of "por ciento".
_ONE_QUANTITY = rf"(?:\d[\d.,]*\d|\d|{_NUMBER_WORDS})"
_QUANTITY_RUN = re.compile(rf"(?<![\w.,:/-])(?<!por )({_ONE_QUANTITY}(?:\s+(?:y\s+)?{_ONE_QUANTITY})*)(?!\w)")


def counts_something(sentence: str, question: str) -> bool:
    """A number in the sentence that counts something ("872 personas", "2 de los 41 legisladores"),
    not a length of time, a day of a month, a share or an amount of money, and not one the
    question already says: what "¿Cuántos…?" asks when the story never names the counted noun."""
    folded, asked = fold(sentence), fold(question)
    return any(_counts(folded, match) and not re.search(rf"(?<!\w){re.escape(match.group(1))}(?!\w)", asked)
               for match in _QUANTITY_RUN.finditer(folded))


def _counts(folded: str, match: re.Match[str]) -> bool:
    """The number ``match`` found in ``folded`` counts something: not "una", a year, or a number
    of days, of a month, of a share or of money."""
    value = match.group(1)
    return value != "una" and not _YEAR.fullmatch(value) and not _NOT_COUNTED.match(folded, match.end())
