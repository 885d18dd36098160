"""`toy_pairs`: a generated English -> "Toy" language pair from a synchronous grammar.

Toy differs from English in ways a model has to learn, not copy:

- word order: subject-object-verb, also inside relative clauses (the verb moves
  past the whole object phrase);
- adjectives follow the noun, in mirrored order ("big red dog" -> "kano roja granda");
- postpositions ("near the cat" -> "la gata pe");
- agreement: determiners and adjectives agree with the noun's gender and number,
  verbs with the subject's number;
- length change: "does not see" (3 words) -> "na vedet" (2 words).

Every pair carries the gold source parse tree, PTB-bracketed with part-of-speech
preterminals, e.g. `(S (NP (DT the) (NN dog)) (VP (VBZ sees) (NP (DT a) (NN cat))))`.

Example:
>>> pairs = generate(size=3, seed=0)
>>> len(pairs), pairs[0].tree.startswith("(S (NP")
(3, True)
"""

import random
from typing import NamedTuple

from common.errors import DataError

NOUNS = {  # english: (toy stem, gender)
    "dog": ("kan", "m"),
    "cat": ("gat", "f"),
    "bird": ("pajar", "m"),
    "horse": ("kabal", "m"),
    "farmer": ("granjer", "m"),
    "teacher": ("maestr", "f"),
    "doctor": ("medik", "f"),
    "king": ("rej", "m"),
    "queen": ("rejn", "f"),
    "girl": ("nin", "f"),
    "boy": ("chik", "m"),
    "friend": ("amig", "m"),
    "house": ("kas", "f"),
    "tree": ("arbol", "m"),
    "car": ("kar", "m"),
    "river": ("rij", "f"),
}
ADJECTIVES = {
    "big": "grand",
    "small": "pekun",
    "red": "roj",
    "blue": "azul",
    "old": "viej",
    "young": "joven",
    "happy": "feliz",
    "sad": "trist",
    "quick": "rapid",
    "lazy": "lent",
}
VERBS = {  # english base form: toy stem
    "see": "ved",
    "like": "gust",
    "follow": "sig",
    "help": "ajud",
    "find": "trov",
    "watch": "mir",
    "push": "empuj",
    "call": "jam",
}
PREPOSITIONS = {"near": "pe", "behind": "tras", "with": "kon", "under": "sub"}
DETERMINERS = {  # (english, definite): toy form by (gender, plural)
    True: {("m", False): "lo", ("f", False): "la", ("m", True): "los", ("f", True): "las"},
    False: {("m", False): "un", ("f", False): "una", ("m", True): "unos", ("f", True): "unas"},
}


class Pair(NamedTuple):
    """One translation example; `origin` names where it came from, for errors."""

    source: str
    target: str
    tree: str | None = None
    origin: str = ""


class _Phrase(NamedTuple):
    source: list[str]
    target: list[str]
    tree: str
    plural: bool


def _noun_phrase(rng: random.Random, depth: int) -> _Phrase:
    noun = rng.choice(sorted(NOUNS))
    stem, gender = NOUNS[noun]
    plural = rng.random() < 0.35
    definite = rng.random() < 0.6
    adjectives = rng.sample(sorted(ADJECTIVES), rng.choice([0, 0, 1, 1, 2]))
    noun_en = noun + ("s" if plural else "")
    det_en = "the" if definite else ("some" if plural else "a")
    if det_en == "a" and (adjectives or [noun])[0][0] in "aeiou":
        det_en = "an"
    ending = ("o" if gender == "m" else "a") + ("s" if plural else "")
    source = [det_en, *adjectives, noun_en]
    target = [DETERMINERS[definite][gender, plural], stem + ending]
    target += [ADJECTIVES[a] + ending for a in reversed(adjectives)]
    trees = [
        f"(DT {det_en})",
        *(f"(JJ {a})" for a in adjectives),
        f"(NN{'S' if plural else ''} {noun_en})",
    ]
    roll = rng.random()
    if depth == 0 and roll < 0.2:
        prep = rng.choice(sorted(PREPOSITIONS))
        inner = _noun_phrase(rng, depth + 1)
        source += [prep, *inner.source]
        target += [*inner.target, PREPOSITIONS[prep]]
        trees.append(f"(PP (IN {prep}) {inner.tree})")
    elif depth == 0 and roll < 0.35:
        verb = _verb_phrase(rng, plural, depth + 1)
        source += ["that", *verb.source]
        target += ["ke", *verb.target]
        trees.append(f"(SBAR (WDT that) {verb.tree})")
    return _Phrase(source, target, f"(NP {' '.join(trees)})", plural)


def _verb_phrase(rng: random.Random, plural_subject: bool, depth: int) -> _Phrase:
    verb = rng.choice(sorted(VERBS))
    obj = _noun_phrase(rng, depth)
    toy_verb = VERBS[verb] + ("en" if plural_subject else "et")
    if rng.random() < 0.2:
        aux = "do" if plural_subject else "does"
        source = [aux, "not", verb]
        tree = f"(VP (VB{'P' if plural_subject else 'Z'} {aux}) (RB not) (VB {verb}) {obj.tree})"
        verb_target = ["na", toy_verb]
    else:
        inflected = verb if plural_subject else verb + ("es" if verb[-1] in "hs" else "s")
        source = [inflected]
        tree = f"(VP (VB{'P' if plural_subject else 'Z'} {inflected}) {obj.tree})"
        verb_target = [toy_verb]
    return _Phrase(source + obj.source, obj.target + verb_target, tree, plural_subject)


def sentence(rng: random.Random) -> Pair:
    """One random sentence pair with its source tree."""
    subject = _noun_phrase(rng, 0)
    verb = _verb_phrase(rng, subject.plural, 0)
    return Pair(
        " ".join(subject.source + verb.source),
        " ".join(subject.target + verb.target),
        f"(S {subject.tree} {verb.tree})",
    )


def generate(size: int, seed: int) -> list[Pair]:
    """`size` distinct pairs, the same for the same `seed`."""
    rng = random.Random(seed)
    seen: dict[str, Pair] = {}
    for _ in range(size * 50):
        if len(seen) == size:
            break
        pair = sentence(rng)
        seen.setdefault(pair.source, pair._replace(origin=f"toy_pairs #{len(seen)}"))
    if len(seen) < size:
        raise DataError(f"toy_pairs: could only make {len(seen)} distinct pairs, asked {size}")
    return list(seen.values())
