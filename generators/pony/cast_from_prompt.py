"""Who is in a pony clip: people and what the prompt says of them, animals, actions, speakers."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from generators.pony.cast_words import (
    ACTIONS,
    ANIMALS,
    CLOTHES,
    COLOURS,
    FEMALE_NAMES,
    HAIR_COLOURS,
    HEADWEAR,
    MALE_NAMES,
    NOT_NAMES,
    NUMBERS,
    PERSON_NOUNS,
    PLURAL_NOUNS,
)

_NOBODY = re.compile(
    r"\b(?:no one|no-one|nobody|no people|noone|empty|deserted|"
    r"unpopulated|no person|no humans?|without people)\b"
)
_PRONOUN_F = re.compile(r"\b(?:she|her|herself)\b")
_PRONOUN_M = re.compile(r"\b(?:he|him|his|himself)\b")
_SAY = (
    r"(?:says|said|say|replies|replied|answers|answered|asks|asked|responds|whispers|"
    r"shouts|calls|adds|continues|tells|exclaims|murmurs|yells|speaks|laughs)"
)
_REPLY = re.compile(r"\b(?:replies|replied|answers|answered|responds|responded)\b")
_QUOTE = re.compile(r'"([^"]+)"|“([^”]+)”|«([^»]+)»|「([^」]+)」|『([^』]+)』|„([^“”]+)[“”]')
_NAME_COLON = re.compile(r"(?:^|[\s.,;])([A-Z][a-z]{1,15})\s*:\s*$")


@dataclass(frozen=True)
class Person:
    """One character and what the prompt says of them (None / False: not said)."""

    gender: str | None  # f | m | None
    age: str  # child | young | adult | old
    name: str | None = None
    hair_colour: str | None = None
    hair_length: str | None = None  # short | long | bald
    clothing: tuple[tuple[str, str], ...] = ()  # (colour, item)
    glasses: bool = False
    hat: bool = False
    beard: bool = False
    umbrella: bool = False
    actions: tuple[str, ...] = ()

    def describe(self) -> dict:
        return {
            "gender": self.gender,
            "age": self.age,
            "name": self.name,
            "hair_colour": self.hair_colour,
            "hair_length": self.hair_length,
            "clothing": [f"{c} {i}".strip() for c, i in self.clothing],
            "glasses": self.glasses,
            "hat": self.hat,
            "beard": self.beard,
            "umbrella": self.umbrella,
            "actions": list(self.actions),
        }


@dataclass(frozen=True)
class Cast:
    """The people (in order of mention), animals, crowd, and the speaker of each quoted line."""

    people: tuple[Person, ...]
    animals: tuple[str, ...]
    crowd: bool
    speakers: tuple[int, ...]  # index into people for each quoted line
    actions: tuple[str, ...] = field(default=())  # every action named, in prompt order


def _words_re(words) -> str:
    return (
        r"(?<![\w-])(?:"
        + "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
        + r")(?![\w-])"
    )


_NOUN_RE = re.compile(_words_re(PERSON_NOUNS))
_ACTION_RES = {a: re.compile(_words_re(ws)) for a, ws in ACTIONS.items()}
_ANIMAL_RES = {a: re.compile(_words_re(ws)) for a, ws in ANIMALS.items()}
_COLOUR_RE = "|".join(sorted(COLOURS, key=len, reverse=True))
_HAIR_RE = "|".join(sorted(HAIR_COLOURS, key=len, reverse=True))


def _strip_quotes(text: str) -> str:
    """The prompt with the quoted dialogue blanked out (same length, so offsets still hold)."""
    return _QUOTE.sub(lambda m: " " * len(m.group(0)), text)


def _attributes(span: str, before: str) -> dict:
    """What the words around one person mention say of them."""
    both = f"{before} {span}"
    out: dict = {}
    m = (
        re.search(rf"\b({_HAIR_RE})[- ]haired\b", both)
        or re.search(rf"\b(?:(?:long|short|curly|straight|wavy)\s+)?({_HAIR_RE})\s+hair", both)
        or re.search(r"\b(blonde|blond|redhead|ginger)\b", both)
    )
    if m:
        out["hair_colour"] = {"redhead": "red"}.get(m.group(1), m.group(1))
        if out["hair_colour"] == "blond":
            out["hair_colour"] = "blonde"
    if re.search(r"\bbald\b", both):
        out["hair_length"] = "bald"
    elif re.search(r"\blong\b[\w\s-]{0,12}\bhair|\bponytail\b|\bbraids?\b", both):
        out["hair_length"] = "long"
    elif re.search(r"\bshort\b[\w\s-]{0,12}\bhair|\bbuzz ?cut\b|\bcrew ?cut\b", both):
        out["hair_length"] = "short"
    clothing = []
    for m in re.finditer(rf"\b(?:({_COLOUR_RE})\s+)?({'|'.join(CLOTHES)})\b", span):
        clothing.append((m.group(1) or "", m.group(2)))
    for m in re.finditer(rf"\b({_COLOUR_RE})\s+({'|'.join(CLOTHES)})\b", before):
        clothing.append((m.group(1), m.group(2)))
    if clothing:
        out["clothing"] = tuple(dict.fromkeys(clothing))
    if re.search(r"\b(?:glasses|spectacles|sunglasses|eyeglasses|bespectacled)\b", both):
        out["glasses"] = True
    if re.search(_words_re(HEADWEAR), span) or re.search(r"\b(?:hatted)\b", both):
        out["hat"] = True
    if re.search(r"\b(?:beard|bearded|moustache|mustache|stubble|goatee)\b", both):
        out["beard"] = True
    if re.search(r"\bumbrellas?\b", span):
        out["umbrella"] = True
    if re.search(r"\b(?:old|elderly|aged|grey-haired|gray-haired|senior|older)\b", before):
        out["age"] = "old"
    elif re.search(r"\b(?:young|younger|teenage|teen|youthful)\b", before):
        out["age"] = "young"
    found = [(m.start(), a) for a, rx in _ACTION_RES.items() if (m := rx.search(span))]
    acts = tuple(a for _, a in sorted(found))
    if acts:
        out["actions"] = acts
    return out


def _count(before: str, noun: str) -> int:
    if noun == "couple":
        return 2
    words = re.findall(r"[\w-]+", before)[-2:]
    for w in reversed(words):
        if w in NUMBERS:
            return NUMBERS[w] if noun in PLURAL_NOUNS or noun == "couple" else 1
    if noun == "couple":
        return 2
    return 2 if noun in PLURAL_NOUNS else 1


def _mentions(text: str) -> list[tuple[int, int, str]]:
    return [(m.start(), m.end(), m.group(0)) for m in _NOUN_RE.finditer(text)]


def _names(prompt: str) -> list[str]:
    """Names given before a colon that opens a quoted line, or as the subject of 'says'."""
    names: list[str] = []
    for m in _QUOTE.finditer(prompt):
        nm = _NAME_COLON.search(prompt[max(0, m.start() - 30) : m.start()])
        if nm and nm.group(1) not in NOT_NAMES:
            names.append(nm.group(1))
    for m in re.finditer(rf"\b([A-Z][a-z]{{1,15}})\s+{_SAY}\b", _strip_quotes(prompt)):
        if m.group(1) not in NOT_NAMES and m.group(1).lower() not in (
            "she",
            "he",
            "it",
            "they",
            "then",
        ):
            names.append(m.group(1))
    return list(dict.fromkeys(names))


def _name_gender(name: str) -> str | None:
    low = name.lower()
    return "f" if low in FEMALE_NAMES else "m" if low in MALE_NAMES else None


def _people(prompt: str, n_lines: int) -> list[Person]:
    text = _strip_quotes(prompt).lower()
    mentions = _mentions(text)
    people: list[Person] = []
    seen_subjects: list[tuple[str, int]] = []  # (noun, first index), to merge "the woman"
    for k, (start, end, noun) in enumerate(mentions):
        prev_end = mentions[k - 1][1] if k else 0
        next_start = mentions[k + 1][0] if k + 1 < len(mentions) else len(text)
        before = re.split(r"[.;!?]|\band\b|,", text[prev_end:start])[-1][-40:]
        span = re.split(r"\b(?:while|as|whereas)\b", text[end:next_start])[0]
        if re.search(r"\b(?:the|this|that)\s+$", before) and any(
            n == noun for n, _ in seen_subjects
        ):
            continue  # "the woman" again: the same person
        if re.search(r"\bno\s+$", before):
            continue
        gender, age = PERSON_NOUNS[noun]
        if noun in ("couple",) and _count(before, noun) == 2:
            genders: list[str | None] = ["f", "m"]
        else:
            genders = [gender] * min(_count(before, noun), 4)
        attrs = _attributes(span, before)
        age = attrs.pop("age", age)
        if age == "adult" and noun in ("grandmother", "grandma", "grandfather", "grandpa"):
            age = "old"
        seen_subjects.append((noun, len(people)))
        for g in genders:
            people.append(Person(g, age, **attrs))
    for name in _names(prompt):
        people.append(Person(_name_gender(name), "adult", name=name))
    if not people:
        if _PRONOUN_F.search(text):
            people.append(Person("f", "adult", **_attributes(text, "")))
        elif _PRONOUN_M.search(text):
            people.append(Person("m", "adult", **_attributes(text, "")))
        elif n_lines:
            people.append(Person(None, "adult"))
    elif (
        _PRONOUN_M.search(text)
        and _PRONOUN_F.search(text)
        and len(people) == 1
        and people[0].gender in ("f", "m")
    ):
        people.append(Person("m" if people[0].gender == "f" else "f", "adult"))
    return people[:4]


def _resolve(subject: str, people: list[Person], previous: int | None) -> int | None:
    """Which person a subject ('she', 'the old man', 'Anna') names; None when unclear."""
    s = subject.strip().lower()
    for i, p in enumerate(people):
        if p.name and re.search(rf"\b{re.escape(p.name.lower())}\b", s):
            return i
    want = None
    if re.search(r"\b(?:she|woman|girl|lady|mother|grandmother|grandma)\b", s):
        want = "f"
    elif re.search(r"\b(?:he|man|boy|guy|father|grandfather|grandpa|gentleman)\b", s):
        want = "m"
    if want is None:
        return None
    matches = [i for i, p in enumerate(people) if p.gender == want]
    if re.search(r"\b(?:old|older|elderly)\b", s):
        matches = [i for i in matches if people[i].age == "old"] or matches
    if re.search(r"\b(?:young|younger)\b", s):
        matches = [i for i in matches if people[i].age in ("young", "child")] or matches
    if not matches:
        return None
    if len(matches) > 1 and previous in matches and re.search(r"\b(?:other|second)\b", s):
        return next(i for i in matches if i != previous)
    return matches[0]


def _speakers(prompt: str, people: list[Person]) -> list[int]:
    quotes = list(_QUOTE.finditer(prompt))
    speakers: list[int] = []
    previous: int | None = None
    for k, m in enumerate(quotes):
        lo = quotes[k - 1].end() if k else 0
        before = prompt[lo : m.start()]
        hi = quotes[k + 1].start() if k + 1 < len(quotes) else len(prompt)
        after = prompt[m.end() : hi][:40]
        who: int | None = None
        nm = _NAME_COLON.search(before[-30:])
        if nm:
            who = _resolve(nm.group(1), people, previous)
        if who is None:
            found = list(re.finditer(rf"([\w' ]{{0,30}}?)\s*\b{_SAY}\b", before))
            sm = found[-1] if found else None
            if sm is not None:
                who = _resolve(sm.group(1), people, previous)
        if who is None:
            am = re.match(rf"\s*[,.]?\s*({_SAY})\s+([\w' ]{{1,30}})", after) or re.match(
                rf"\s*[,.]?\s*([\w' ]{{1,30}}?)\s+{_SAY}\b", after
            )
            if am:
                who = _resolve(am.group(am.lastindex), people, previous)
        if who is None and len(people) > 1 and previous is not None:
            # a reply, or an unattributed line in a conversation: the other one speaks
            who = (previous + 1) % len(people) if (_REPLY.search(before) or k) else previous
        if who is None:
            who = 0
        speakers.append(min(who, max(len(people) - 1, 0)))
        previous = speakers[-1]
    return speakers


def read_cast(prompt: str, n_lines: int) -> Cast:
    """The cast of a prompt; `n_lines` quoted lines each get a speaker among the people."""
    text = _strip_quotes(prompt).lower()
    found = [(m.start(), a) for a, rx in _ANIMAL_RES.items() if (m := rx.search(text))]
    animals = tuple(a for _, a in sorted(found))
    crowd = bool(
        re.search(
            r"\b(?:crowd|crowds|crowded|busy|bustling|festival|passers-by|"
            r"pedestrians|commuters)\b",
            text,
        )
    )
    actions = tuple(
        a
        for a, rx in sorted(
            _ACTION_RES.items(), key=lambda kv: (kv[1].search(text) or _END).start()
        )
        if rx.search(text)
    )
    nobody = bool(_NOBODY.search(text))
    people = [] if nobody and not n_lines else _people(prompt, n_lines)
    if nobody and n_lines and not people:
        people = [Person(None, "adult")]
    if people and actions and not any(p.actions for p in people):
        people[0] = _with_actions(people[0], actions)
    speakers = _speakers(prompt, people) if people else []
    return Cast(tuple(people), animals, crowd, tuple(speakers[:n_lines]), actions)


class _End:
    def start(self) -> int:
        return 1 << 30


_END = _End()


def _with_actions(p: Person, actions: tuple[str, ...]) -> Person:
    d = dict(p.__dict__)
    d["actions"] = actions
    return Person(**d)
