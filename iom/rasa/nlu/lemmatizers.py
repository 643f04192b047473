"""Lemmatizer back-ends for the Polish/English tokenizer.

Two back-ends, chosen by :func:`resolve_backend`:

* ``spacy``: a spaCy pipeline loaded by package name or path (the design card's
  ``pl_core_news_sm`` when it is installed) tokenizes and lemmatizes Polish text;
* ``simplemma``: the offline dictionary lemmatizer from PyPI, for both languages.
  Its dictionaries are read with simplemma's own ``StreamDictionaryFactory``
  (front-coded, decoded on demand): the same lemmas as its default ``dict``
  factory for about 50 MiB instead of about 385 MiB of resident memory
  (measured in bench/results/serving.md), with a small cache of recent words;
* ``none``: lowercased words only (the baseline the benchmark compares with).

Ukrainian and Russian words get their lemmas from the ``cyrillic`` back-end:
``pymorphy3`` (the OpenCorpora/VESUM morphological dictionaries of
``pymorphy3-dicts-ru`` and ``pymorphy3-dicts-uk``, offline; the default),
``simplemma`` or ``none`` (measured in docs/nlu.md). With ``transliterated``, a
word typed in Latin letters in a Ukrainian or Russian message ("nozhem",
"pomoshch") is first written back in Cyrillic (:func:`iom.core.transliteration.
back_transliterate`, the first spelling the dictionary knows), so that its lemma is
the one the Cyrillic training examples have (ніж, помощь).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from iom.core.language import fold
from iom.core.transliteration import back_transliterate, morph, simplemma_dictionaries

logger = logging.getLogger(__name__)

BACKENDS = ("auto", "spacy", "simplemma", "none")
CYRILLIC_BACKENDS = ("pymorphy3", "simplemma", "none")


@dataclass
class LemmaBackend:
    """The chosen back-end and, for spaCy, the loaded pipeline."""

    name: str
    spacy_model: str | None = None
    nlp: Any = field(default=None, repr=False)
    cyrillic: str = "pymorphy3"
    transliterated: bool = False

    def lemma(self, word: str, language: str | None) -> str:
        """Lemma of one word (lowercased, diacritics removed) in ``language``."""
        lowered = word.lower()
        if language in ("uk", "ru"):
            if self.transliterated and lowered.isascii() and lowered.isalpha():
                spellings = back_transliterate(lowered, language)
                if spellings:
                    return fold(self._cyrillic_lemma(spellings[0], language))
            return fold(self._cyrillic_lemma(lowered, language))
        if self.name == "none" or not lowered.strip():  # simplemma refuses ""
            return fold(lowered)
        languages = (language,) if language in ("pl", "en") else ("pl", "en")
        for code in languages:
            lemma = simplemma_lemma(lowered, code)
            if lemma != lowered or code == languages[-1]:
                return fold(lemma)
        return fold(lowered)  # pragma: no cover

    def _cyrillic_lemma(self, lowered: str, language: str) -> str:
        if self.cyrillic == "none" or not lowered.strip():
            return lowered
        if self.cyrillic == "simplemma":
            return simplemma_lemma(lowered, language)
        return pymorphy_lemma(lowered, language)

    def metadata(self) -> dict[str, Any]:
        """What trained the model: written into the model's resource."""
        info: dict[str, Any] = {
            "backend": self.name,
            "spacy_model": self.spacy_model,
            "cyrillic": self.cyrillic,
            "transliterated": self.transliterated,
        }
        if self.nlp is not None:
            info["spacy_pipeline"] = {
                "name": self.nlp.meta.get("name"),
                "lang": self.nlp.lang,
                "version": self.nlp.meta.get("version"),
            }
        if self.name in ("simplemma", "spacy"):
            from importlib.metadata import version

            info["simplemma_version"] = version("simplemma")
        return info


@lru_cache(maxsize=1)
def _simplemma() -> Any:
    """The simplemma lemmatizer over stream-read dictionaries (see the module doc)."""
    from simplemma import Lemmatizer
    from simplemma.strategies import DefaultStrategy

    # the factory language detection reads too: each dictionary is read once
    factory = simplemma_dictionaries()
    return Lemmatizer(
        lemmatization_strategy=DefaultStrategy(dictionary_factory=factory)
    )


@lru_cache(maxsize=65536)
def simplemma_lemma(word: str, language: str) -> str:
    """The simplemma lemma of a lowercased, non-blank ``word`` in ``language``."""
    return str(_simplemma().lemmatize(word, lang=language))


@lru_cache(maxsize=65536)
def pymorphy_lemma(word: str, language: str) -> str:
    """pymorphy3's most likely normal form of a lowercased Ukrainian/Russian word."""
    parses = morph(language).parse(word)  # type: ignore[arg-type]
    return str(parses[0].normal_form) if parses else word


def load_spacy(model: str) -> Any:
    """Load a spaCy pipeline by package name or path; None when unavailable."""
    try:
        import spacy

        return spacy.load(model)
    except (OSError, ImportError, ValueError) as error:
        logger.info("spaCy pipeline %r is not available: %s", model, error)
        return None


def resolve_backend(
    requested: str,
    spacy_model: str,
    cyrillic: str = "pymorphy3",
    transliterated: bool = False,
) -> LemmaBackend:
    """Pick the back-end: ``auto`` prefers the spaCy pipeline when installed."""
    if requested not in BACKENDS:
        raise ValueError(f"lemmatizer must be one of {BACKENDS}, not {requested!r}")
    if cyrillic not in CYRILLIC_BACKENDS:
        raise ValueError(
            f"cyrillic_lemmatizer must be one of {CYRILLIC_BACKENDS}, not {cyrillic!r}"
        )
    if requested in ("auto", "spacy"):
        nlp = load_spacy(spacy_model)
        if nlp is not None:
            return LemmaBackend("spacy", spacy_model, nlp, cyrillic, transliterated)
        if requested == "spacy":
            logger.warning(
                "spaCy pipeline %r could not be loaded; using simplemma instead "
                "(run `make install` where the network allows to install it).",
                spacy_model,
            )
        return LemmaBackend(
            "simplemma", spacy_model, cyrillic=cyrillic, transliterated=transliterated
        )
    return LemmaBackend(
        requested, spacy_model, cyrillic=cyrillic, transliterated=transliterated
    )


def warm_up(backend: LemmaBackend) -> None:
    """Load dictionaries now so the first user message is not slow."""
    if backend.name in ("simplemma", "spacy"):
        backend.lemma("pracodawcy", "pl")
        backend.lemma("working", "en")
    backend.lemma("роботодавець", "uk")
    backend.lemma("работодатель", "ru")
