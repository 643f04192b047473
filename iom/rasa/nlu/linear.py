"""A linear intent classifier blended with DIET's ranking.

Configured in config.yml as `iom.rasa.nlu.linear.LinearIntentBlend`, right after the
DIET classifier. It trains scikit-learn's `LinearSVC` on TF-IDF weights of the words,
their lemmas (from `LemmaTokenizer`) and character n-grams, turns the SVM's scores into
a ranking (a softmax), and blends that with DIET's ranking:

    confidence = diet_weight × DIET + (1 − diet_weight) × SVM

Why (docs/nlu.md, "A linear model beside DIET"): on the blind held-out sets the linear
model alone was as good as DIET or better, and most of all steadier on the topics and
languages with less data, while two trainings of DIET differ by about 0.01 macro-F1.
The SVM trains in seconds and is deterministic. DIET still finds the entities.

The model is stored as JSON (vocabularies) and a NumPy archive (IDF weights, SVM
coefficients): no pickle is ever loaded.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.tokenizers.tokenizer import Tokenizer
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.svm import LinearSVC

from iom.core.language import fold

logger = logging.getLogger(__name__)

VOCABULARY_FILE = "vocabulary.json"
WEIGHTS_FILE = "weights.npz"


Document = Sequence[tuple[str, str | None]]


def texts(documents: Sequence[Document]) -> tuple[list[str], list[str]]:
    """The two texts of each tokenized message, each word folded once.

    For the word features: the words and their lemmas (marked "L_"); for the
    character n-grams: the words alone.
    """
    word_texts: list[str] = []
    char_texts: list[str] = []
    for tokens in documents:
        folded = [fold(text) for text, _ in tokens]
        lemmas = [f"L_{lemma}" for _, lemma in tokens if lemma]
        word_texts.append(" ".join(folded + lemmas))
        char_texts.append(" ".join(folded))
    return word_texts, char_texts


def _word_vectorizer() -> TfidfVectorizer:
    return TfidfVectorizer(
        token_pattern=r"\S+", lowercase=False, sublinear_tf=True, dtype=np.float32
    )


def _char_vectorizer(low: int, high: int) -> TfidfVectorizer:
    return TfidfVectorizer(
        analyzer="char_wb",
        ngram_range=(low, high),
        lowercase=False,
        sublinear_tf=True,
        dtype=np.float32,
    )


@dataclass
class LinearIntentModel:
    """TF-IDF features and one linear SVM score per intent (pure; no Rasa types)."""

    words: TfidfVectorizer
    chars: TfidfVectorizer
    char_weight: float
    intents: list[str]
    coef: np.ndarray  # (intents, features), float32
    intercept: np.ndarray  # (intents,)

    @classmethod
    def fit(
        cls,
        documents: Sequence[Document],
        labels: Sequence[str],
        *,
        c: float = 1.0,
        char_ngrams: tuple[int, int] = (2, 5),
        char_weight: float = 2.0,
        random_state: int = 2002,
    ) -> LinearIntentModel:
        """Fit the vectorizers and the SVM on tokenized examples and their intents."""
        words = _word_vectorizer()
        chars = _char_vectorizer(*char_ngrams)
        word_texts, char_texts = texts(documents)
        x = sparse.hstack(
            [
                words.fit_transform(word_texts),
                chars.fit_transform(char_texts) * char_weight,
            ]
        ).tocsr()
        svm = LinearSVC(C=c, class_weight="balanced", random_state=random_state)
        svm.fit(x, list(labels))
        coef = np.asarray(svm.coef_, dtype=np.float32)
        intercept = np.asarray(svm.intercept_, dtype=np.float32)
        if len(svm.classes_) == 2:  # one score for two classes: make it two
            coef = np.vstack([-coef, coef])
            intercept = np.concatenate([-intercept, intercept])
        return cls(
            words, chars, char_weight, [str(c) for c in svm.classes_], coef, intercept
        )

    def scores(self, documents: Sequence[Document]) -> Any:
        """The SVM's score of every intent for every document, (documents, intents)."""
        word_texts, char_texts = texts(documents)
        x = sparse.hstack(
            [
                self.words.transform(word_texts),
                self.chars.transform(char_texts) * self.char_weight,
            ]
        ).tocsr()
        return x @ self.coef.T + self.intercept

    def save(self, directory: Any) -> None:
        """Vocabularies as JSON, weights as a NumPy archive, in ``directory``."""
        meta = {
            "intents": self.intents,
            "char_weight": self.char_weight,
            "char_ngrams": list(self.chars.ngram_range),
            "words": {k: int(v) for k, v in self.words.vocabulary_.items()},
            "chars": {k: int(v) for k, v in self.chars.vocabulary_.items()},
        }
        (directory / VOCABULARY_FILE).write_text(
            json.dumps(meta, ensure_ascii=False), "utf-8"
        )
        np.savez_compressed(
            directory / WEIGHTS_FILE,
            words_idf=self.words.idf_,
            chars_idf=self.chars.idf_,
            coef=self.coef,
            intercept=self.intercept,
        )

    @classmethod
    def load(cls, directory: Any) -> LinearIntentModel:
        """The model ``save`` wrote (no pickle: ``allow_pickle=False``)."""
        meta = json.loads((directory / VOCABULARY_FILE).read_text("utf-8"))
        with np.load(directory / WEIGHTS_FILE, allow_pickle=False) as arrays:
            weights = {name: arrays[name] for name in arrays.files}
        words = _word_vectorizer()
        words.vocabulary_ = meta["words"]
        words.idf_ = weights["words_idf"]
        chars = _char_vectorizer(*meta["char_ngrams"])
        chars.vocabulary_ = meta["chars"]
        chars.idf_ = weights["chars_idf"]
        return cls(
            words,
            chars,
            float(meta["char_weight"]),
            list(meta["intents"]),
            weights["coef"],
            weights["intercept"],
        )


def softmax(scores: Any, temperature: float) -> Any:
    """Row-wise softmax of ``temperature × scores``."""
    scaled = np.asarray(scores, dtype=np.float64) * temperature
    scaled -= scaled.max(axis=1, keepdims=True)
    exp = np.exp(scaled)
    return exp / exp.sum(axis=1, keepdims=True)


def blend(
    intents: Sequence[str],
    linear: Sequence[float],
    diet_ranking: Sequence[dict[str, Any]] | None,
    diet_weight: float,
) -> list[tuple[str, float]]:
    """Intents by blended confidence, best first.

    DIET's ranking is renormalised over the intents the linear model knows; an intent
    missing from it (past DIET's ranking length) counts as 0 for DIET. Without a DIET
    ranking the linear model decides alone.
    """
    index = {name: i for i, name in enumerate(intents)}
    diet = np.zeros(len(intents))
    for entry in diet_ranking or []:
        i = index.get(entry.get("name", ""))
        if i is not None:
            diet[i] = float(entry.get("confidence") or 0.0)
    weight = diet_weight if diet.sum() > 0 else 0.0
    if weight:
        diet /= diet.sum()
    combined = weight * diet + (1.0 - weight) * np.asarray(linear, dtype=np.float64)
    order = np.argsort(-combined, kind="stable")
    return [(intents[i], float(combined[i])) for i in order]


def _tokens(message: Message) -> list[tuple[str, str | None]]:
    return [
        (token.text, getattr(token, "lemma", None))
        for token in message.get(TOKENS_NAMES[TEXT]) or []
    ]


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True
)
class LinearIntentBlend(IntentClassifier, GraphComponent):
    """A linear SVM's intent ranking blended with the previous classifier's."""

    @classmethod
    def required_components(cls) -> list[type]:
        """Tokens (with lemmas) come from a tokenizer earlier in the pipeline."""
        return [Tokenizer]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Blend weight, SVM and feature options (measured in docs/nlu.md)."""
        return {
            "diet_weight": 0.3,
            "C": 1.0,
            "char_ngrams": [2, 5],
            "char_weight": 2.0,
            "temperature": 5.0,
            "ranking_length": 10,
            "random_seed": 2002,
        }

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        model: LinearIntentModel | None = None,
    ) -> None:
        """Keeps the options, the storage to persist to and the trained model."""
        self.config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self.model = model

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> LinearIntentBlend:
        """An untrained component."""
        return cls(config, model_storage, resource)

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> LinearIntentBlend:
        """The trained component, or an untrained one that leaves DIET's answer."""
        try:
            with model_storage.read_from(resource) as directory:
                model = LinearIntentModel.load(directory)
        except (ValueError, FileNotFoundError, OSError, KeyError) as error:
            logger.warning("No linear intent model in the archive (%s).", error)
            model = None
        return cls(config, model_storage, resource, model)

    def train(self, training_data: TrainingData) -> Resource:
        """Fits the SVM on every example that has an intent and text."""
        examples = [
            e for e in training_data.intent_examples if e.get(INTENT) and e.get(TEXT)
        ]
        if len({e.get(INTENT) for e in examples}) < 2:
            logger.debug("Fewer than two intents: the linear model is not trained.")
            return self._resource
        low, high = self.config["char_ngrams"]
        self.model = LinearIntentModel.fit(
            [_tokens(e) for e in examples],
            [e.get(INTENT) for e in examples],
            c=float(self.config["C"]),
            char_ngrams=(int(low), int(high)),
            char_weight=float(self.config["char_weight"]),
            random_state=int(self.config["random_seed"]),
        )
        with self._model_storage.write_to(self._resource) as directory:
            self.model.save(directory)
        return self._resource

    def process(self, messages: list[Message]) -> list[Message]:
        """Sets the blended intent and ranking on each message with text."""
        if self.model is None:
            return messages
        texts = [m for m in messages if m.get(TEXT)]
        if not texts:
            return messages
        linear = softmax(
            self.model.scores([_tokens(m) for m in texts]),
            float(self.config["temperature"]),
        )
        length = int(self.config["ranking_length"])
        for message, row in zip(texts, linear, strict=False):
            ranked = blend(
                self.model.intents,
                row,
                message.get(INTENT_RANKING_KEY),
                float(self.config["diet_weight"]),
            )
            ranking = [{"name": n, "confidence": c} for n, c in ranked]
            if length > 0:
                ranking = ranking[:length]
            message.set(INTENT, ranking[0], add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
        return messages
