"""Rasa NLU components: language detection, lemmatizing tokenizer, routing.

Registered in ``config.yml`` by their dotted paths. Each is a thin wrapper over the
pure modules :mod:`iom_nlu.language` and :mod:`iom_nlu.lemmatizers`.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, METADATA, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from iom_nlu import language as lang
from iom_nlu import lemmatizers

logger = logging.getLogger(__name__)

LANGUAGE_KEY = "language_detection"
OTHER_LANGUAGE_INTENT = "other_language"
METADATA_FILE = "lemmatizer.json"


def detection_of(message: Message) -> dict[str, Any]:
    """The language detection stored on a message (empty dict when absent)."""
    return message.get(LANGUAGE_KEY) or {}


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False
)
class LanguageDetector(GraphComponent):
    """Stores ``{"detected", "reason", "requested", "metadata"}`` on each message.

    ``metadata`` is the language the widget sent with the message (its UI
    language), used by :class:`iom_nlu.policy.LanguagePolicy` when the text
    itself is ambiguous.
    """

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Confidence that lingua needs before it decides a message's language."""
        return {"min_confidence": 0.75}

    def __init__(self, config: dict[str, Any]) -> None:
        """Keeps the configuration."""
        self._min_confidence = float(config["min_confidence"])

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> LanguageDetector:
        """Creates the component and loads lingua's models."""
        lang.warm_up()
        return cls(config)

    def _annotate(self, message: Message) -> None:
        text = message.get(TEXT)
        if text is None:
            return
        detection = lang.detect_language(text, self._min_confidence)
        metadata = message.get(METADATA) or {}
        ui_language = metadata.get("language") if isinstance(metadata, dict) else None
        message.set(
            LANGUAGE_KEY,
            {
                "detected": detection.language,
                "reason": detection.reason,
                "requested": detection.requested,
                "metadata": ui_language if ui_language in lang.SUPPORTED else None,
            },
            add_to_output=True,
        )

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Detects the language of every training example."""
        for example in training_data.training_examples:
            self._annotate(example)
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        """Detects the language of incoming messages."""
        for message in messages:
            self._annotate(message)
        return messages


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=True
)
class LemmaTokenizer(WhitespaceTokenizer):
    """Whitespace tokens with Polish/English lemmas (spaCy or simplemma).

    Uses the spaCy pipeline named by ``spacy_model`` for Polish text when it can
    be loaded (``lemmatizer: auto``), otherwise simplemma. The back-end that
    trained a model is written to ``lemmatizer.json`` in the model archive and
    used again when the model is loaded.
    """

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Back-end choice on top of the whitespace tokenizer's options."""
        return {
            **WhitespaceTokenizer.get_default_config(),
            "lemmatizer": "auto",
            "spacy_model": "pl_core_news_sm",
        }

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        backend: lemmatizers.LemmaBackend,
    ) -> None:
        """Keeps the chosen back-end and where to persist its description."""
        super().__init__(config)
        self._model_storage = model_storage
        self._resource = resource
        self.backend = backend

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> LemmaTokenizer:
        """Chooses the back-end for training."""
        backend = lemmatizers.resolve_backend(
            config["lemmatizer"], config["spacy_model"]
        )
        logger.info("Lemmatizer back-end for training: %s", backend.metadata())
        lemmatizers.warm_up(backend)
        return cls(config, model_storage, resource, backend)

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> LemmaTokenizer:
        """Loads the back-end that trained the model."""
        trained: dict[str, Any] = {}
        try:
            with model_storage.read_from(resource) as directory:
                trained = json.loads((directory / METADATA_FILE).read_text("utf-8"))
        except (ValueError, FileNotFoundError, OSError):
            logger.warning("No lemmatizer metadata in the model; using config.")
        name = trained.get("backend", config["lemmatizer"])
        model = trained.get("spacy_model") or config["spacy_model"]
        backend = lemmatizers.resolve_backend(name, model)
        if name == "spacy" and backend.name != "spacy":
            logger.warning(
                "Model was trained with spaCy pipeline %r, which is not installed "
                "here; Polish lemmas now come from simplemma and accuracy may drop.",
                model,
            )
        lemmatizers.warm_up(backend)
        return cls(config, model_storage, resource, backend)

    def train(self, training_data: TrainingData) -> Resource:
        """Records which back-end trained this model."""
        with self._model_storage.write_to(self._resource) as directory:
            (directory / METADATA_FILE).write_text(
                json.dumps(self.backend.metadata(), indent=2), "utf-8"
            )
        return self._resource

    def tokenize(self, message: Message, attribute: str) -> list[Token]:
        """Tokens of ``attribute``; lemmas only for the user's text."""
        if attribute != TEXT:
            return super().tokenize(message, attribute)
        detected = detection_of(message).get("detected")
        language = detected if detected in lang.SUPPORTED else None
        if self.backend.name == "spacy" and language != "en":
            return self._spacy_tokens(message.get(TEXT) or "")
        tokens = super().tokenize(message, attribute)
        for token in tokens:
            token.lemma = self.backend.lemma(token.text, language)
        return tokens

    def _spacy_tokens(self, text: str) -> list[Token]:
        tokens = [
            Token(
                t.text,
                t.idx,
                lemma=lang.normalise(t.lemma_ or t.text),
            )
            for t in self.backend.nlp(text)
            if not (t.is_space or t.is_punct)
        ]
        return self._apply_token_pattern(tokens) if tokens else tokens


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False
)
class OtherLanguageRouter(GraphComponent):
    """Sets the intent to ``other_language`` for messages in other languages.

    Placed after the intent classifier: a message the detector found to be
    Ukrainian, Russian (Cyrillic or transliterated) gets the notice that the bot
    speaks Polish and English, whatever the classifier guessed.
    """

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> OtherLanguageRouter:
        """Creates the component (no state)."""
        return cls()

    def process(self, messages: list[Message]) -> list[Message]:
        """Overrides the intent of messages detected as another language."""
        for message in messages:
            if detection_of(message).get("detected") != "other":
                continue
            intent = {"name": OTHER_LANGUAGE_INTENT, "confidence": 1.0}
            ranking = [
                r
                for r in message.get(INTENT_RANKING_KEY) or []
                if r.get("name") != OTHER_LANGUAGE_INTENT
            ]
            message.set(INTENT, intent, add_to_output=True)
            message.set(INTENT_RANKING_KEY, [intent, *ranking], add_to_output=True)
        return messages


def language_of(parse_data: dict[str, Any] | None) -> dict[str, Any]:
    """The language detection in a tracker's ``latest_message.parse_data``."""
    return (parse_data or {}).get(LANGUAGE_KEY) or {}
