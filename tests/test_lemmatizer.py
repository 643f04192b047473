"""Both lemmatizer paths: a saved spaCy pipeline loaded by path, and simplemma."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import spacy
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from iom.rasa.nlu.components import LanguageDetector, LemmaTokenizer
from iom.rasa.nlu.lemmatizers import resolve_backend

CONTEXT = ExecutionContext(GraphSchema({}), "test")


@pytest.fixture(scope="module")
def polish_pipeline(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A real spaCy `pl` pipeline saved to disk, with lemmas from an attribute ruler.

    It stands in for pl_core_news_sm (not installable here) and goes through the
    same code: spacy.load() by path, Doc tokens, token.lemma_.
    """
    nlp = spacy.blank("pl")
    ruler = nlp.add_pipe("attribute_ruler")
    for form, lemma in [
        ("Krakowie", "Kraków"),
        ("zabrał", "zabrać"),
        ("paszport", "paszport"),
    ]:
        ruler.add([[{"ORTH": form}]], {"LEMMA": lemma})
    path = tmp_path_factory.mktemp("spacy") / "pl_test_pipeline"
    nlp.to_disk(path)
    return str(path)


def _tokenizer(tmp_path: Path, **config: object) -> LemmaTokenizer:
    full = {**LemmaTokenizer.get_default_config(), **config}
    return LemmaTokenizer.create(
        full, LocalModelStorage(tmp_path), Resource("tok"), CONTEXT
    )


def _message(text: str) -> Message:
    message = Message({TEXT: text})
    detector = LanguageDetector.create(
        LanguageDetector.get_default_config(), None, None, CONTEXT  # type: ignore[arg-type]
    )
    detector.process([message])
    return message


def test_auto_falls_back_to_simplemma_when_spacy_model_missing(tmp_path: Path) -> None:
    tokenizer = _tokenizer(tmp_path, spacy_model="no_such_pipeline_xyz")
    assert tokenizer.backend.name == "simplemma"


def test_simplemma_lemmatizes_polish_and_english(tmp_path: Path) -> None:
    tokenizer = _tokenizer(tmp_path, lemmatizer="simplemma")
    polish = [
        t.lemma
        for t in tokenizer.tokenize(
            _message("pracodawca zabrał mi paszport w Krakowie"), TEXT
        )
    ]
    assert polish == ["pracodawca", "zabrac", "ja", "paszport", "w", "krakow"]
    english = [
        t.lemma
        for t in tokenizer.tokenize(_message("my boss took the passports"), TEXT)
    ]
    assert english == ["my", "boss", "take", "the", "passport"]


@pytest.mark.parametrize("text", ["", " ", "\t\n"])
def test_empty_and_blank_messages_are_tokenized(tmp_path: Path, text: str) -> None:
    """Found by the fuzz run: simplemma raises on an empty word."""
    tokenizer = _tokenizer(tmp_path, lemmatizer="simplemma")
    assert all(
        isinstance(t.lemma, str) for t in tokenizer.tokenize(_message(text), TEXT)
    )


def test_spacy_pipeline_loaded_by_path_gives_polish_lemmas(
    tmp_path: Path, polish_pipeline: str
) -> None:
    tokenizer = _tokenizer(tmp_path, spacy_model=polish_pipeline)
    assert tokenizer.backend.name == "spacy"
    tokens = tokenizer.tokenize(_message("Szef zabrał paszport w Krakowie."), TEXT)
    assert [t.text for t in tokens] == ["Szef", "zabrał", "paszport", "w", "Krakowie"]
    assert [t.lemma for t in tokens][1:] == ["zabrac", "paszport", "w", "krakow"]
    # English messages still go through simplemma
    english = tokenizer.tokenize(_message("my boss took my passports"), TEXT)
    assert english[-1].lemma == "passport"


@pytest.mark.parametrize("backend", ["spacy", "simplemma"])
def test_backend_that_trained_the_model_is_recorded_and_reloaded(
    tmp_path: Path, polish_pipeline: str, backend: str
) -> None:
    storage = LocalModelStorage(tmp_path)
    resource = Resource("tok")
    config = {
        **LemmaTokenizer.get_default_config(),
        "lemmatizer": backend,
        "spacy_model": polish_pipeline,
    }
    trained = LemmaTokenizer.create(config, storage, resource, CONTEXT)
    trained.train(TrainingData([_message("dzień dobry")]))
    with storage.read_from(resource) as directory:
        recorded = json.loads((directory / "lemmatizer.json").read_text())
    assert recorded["backend"] == backend

    loaded = LemmaTokenizer.load(
        {**config, "lemmatizer": "none"}, storage, resource, CONTEXT
    )
    assert loaded.backend.name == backend


def test_unknown_backend_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="lemmatizer must be one of"):
        resolve_backend("stanza", "pl_core_news_sm")


def test_stream_dictionaries_give_simplemma_default_lemmas() -> None:
    """The memory lever must not change a lemma: every word of the training data and
    held-out sets, in both languages, lemmatizes as simplemma's default dict does."""
    import re

    import simplemma

    from iom.rasa.nlu.lemmatizers import simplemma_lemma

    root = Path(__file__).resolve().parent.parent
    files = [*root.glob("data/nlu/*/*.yml"), *root.glob("tests/nlu_heldout/**/*.yml")]
    words = {w.lower() for f in files for w in re.findall(r"\w+", f.read_text("utf-8"))}
    assert len(words) > 3000
    for language in ("pl", "en"):
        different = [
            w
            for w in sorted(words)
            if simplemma_lemma(w, language) != simplemma.lemmatize(w, lang=language)
        ]
        assert different == [], different[:10]


@pytest.mark.parametrize(
    ("text", "lemmas"),
    [
        # Ukrainian: inflected forms share one lemma (pymorphy3, VESUM dictionary)
        ("роботодавці забрали паспорти", ["роботодавець", "забрати", "паспорт"]),
        # Russian (OpenCorpora dictionary)
        ("работодатель забрал паспорта", ["работодатель", "забрать", "паспорт"]),
    ],
)
def test_ukrainian_and_russian_lemmas_come_from_pymorphy3(
    tmp_path: Path, text: str, lemmas: list[str]
) -> None:
    tokenizer = _tokenizer(tmp_path, spacy_model="no_such_pipeline_xyz")
    tokens = tokenizer.tokenize(_message(text), TEXT)
    assert [t.lemma for t in tokens] == lemmas


def test_cyrillic_backend_is_recorded_and_can_be_switched(tmp_path: Path) -> None:
    tokenizer = _tokenizer(
        tmp_path, spacy_model="no_such_pipeline_xyz", cyrillic_lemmatizer="none"
    )
    assert tokenizer.backend.metadata()["cyrillic"] == "none"
    tokens = tokenizer.tokenize(_message("роботодавці забрали паспорти"), TEXT)
    assert [t.lemma for t in tokens] == ["роботодавці", "забрали", "паспорти"]
    with pytest.raises(ValueError, match="cyrillic_lemmatizer must be one of"):
        resolve_backend("simplemma", "x", "stemmer")


def test_latin_typed_ukrainian_and_russian_get_cyrillic_lemmas(tmp_path: Path) -> None:
    """With transliterated_lemmas, "nozhem" shares its lemma with "ножем"."""
    tokenizer = _tokenizer(tmp_path, lemmatizer="simplemma")
    assert tokenizer.backend.transliterated
    latin = tokenizer.tokenize(_message("tut cholovik z nozhem, shcho robyty"), TEXT)
    cyrillic = tokenizer.tokenize(_message("тут чоловік з ножем, що робити"), TEXT)
    assert [t.lemma for t in latin] == [t.lemma for t in cyrillic]
    russian = tokenizer.tokenize(_message("mne nuzhna pomoshch, pozhaluysta"), TEXT)
    assert [t.lemma for t in russian][-2] == "помощь"


def test_without_transliterated_lemmas_latin_words_stay_latin(tmp_path: Path) -> None:
    tokenizer = _tokenizer(
        tmp_path, lemmatizer="simplemma", transliterated_lemmas=False
    )
    tokens = tokenizer.tokenize(_message("tut cholovik z nozhem, shcho robyty"), TEXT)
    assert [t.lemma for t in tokens][:2] == ["tut", "cholovik"]


def test_a_model_trained_before_the_option_keeps_latin_lemmas(tmp_path: Path) -> None:
    storage = LocalModelStorage(tmp_path)
    resource = Resource("tok")
    with storage.write_to(resource) as directory:
        (directory / "lemmatizer.json").write_text(
            json.dumps({"backend": "simplemma", "cyrillic": "pymorphy3"})
        )
    config = {**LemmaTokenizer.get_default_config(), "lemmatizer": "simplemma"}
    loaded = LemmaTokenizer.load(config, storage, resource, CONTEXT)
    assert not loaded.backend.transliterated
