"""Rasa NLU components: language detection, lemmatizing tokenizer, routing.

Registered in ``config.yml`` by their dotted paths. Each is a thin wrapper over the
pure modules :mod:`iom.rasa.nlu.language` and :mod:`iom.rasa.nlu.lemmatizers`.
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
from rasa.shared.nlu.constants import (
    ENTITIES,
    ENTITY_ATTRIBUTE_END,
    ENTITY_ATTRIBUTE_START,
    ENTITY_ATTRIBUTE_TYPE,
    ENTITY_ATTRIBUTE_VALUE,
    EXTRACTOR,
    INTENT,
    INTENT_RANKING_KEY,
    METADATA,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from iom.core import detection
from iom.core.language import SUPPORTED, WORD, fold
from iom.core.safety import KEEP, TRAFFICKING, safety_cue, safety_under_doubt
from iom.core.transliteration import is_known_word
from iom.rasa.nlu import lemmatizers

logger = logging.getLogger(__name__)

LANGUAGE_KEY = "language_detection"
SAFETY_NET_KEY = "safety_net"
CONTACT_INTENT = "contact_iom"
TRAFFICKING_TOPIC = "trafficking"
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
    language), used by :class:`iom.rasa.policy.LanguagePolicy` when the text
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
        detection.warm_up()
        return cls(config)

    def _annotate(self, message: Message) -> None:
        text = message.get(TEXT)
        if text is None:
            return
        found = detection.detect_language(text, self._min_confidence)
        metadata = message.get(METADATA) or {}
        ui_language = metadata.get("language") if isinstance(metadata, dict) else None
        message.set(
            LANGUAGE_KEY,
            {
                "detected": found.language,
                "reason": found.reason,
                "requested": found.requested,
                "unclear": found.unclear,
                "metadata": ui_language if ui_language in SUPPORTED else None,
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
    """Whitespace tokens with lemmas: Polish/English (spaCy or simplemma), Cyrillic.

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
            "cyrillic_lemmatizer": "pymorphy3",
            # Latin-typed Ukrainian/Russian words get their Cyrillic lemma.
            "transliterated_lemmas": True,
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
            config["lemmatizer"],
            config["spacy_model"],
            config["cyrillic_lemmatizer"],
            bool(config["transliterated_lemmas"]),
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
        cyrillic = trained.get("cyrillic") or config["cyrillic_lemmatizer"]
        # A model trained before the option has no Cyrillic lemmas for Latin words.
        transliterated = bool(trained.get("transliterated", False))
        backend = lemmatizers.resolve_backend(name, model, cyrillic, transliterated)
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
        language = detected if detected in SUPPORTED else None
        if self.backend.name == "spacy" and language in ("pl", None):
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
                lemma=fold(t.lemma_ or t.text),
            )
            for t in self.backend.nlp(text)
            if not (t.is_space or t.is_punct)
        ]
        return self._apply_token_pattern(tokens) if tokens else tokens


class IntentOverride(GraphComponent):
    """A stateless component after the classifier that may override its intent."""

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> IntentOverride:
        """Creates the component (no state)."""
        return cls()


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False
)
class OtherLanguageRouter(IntentOverride):
    """Sets the intent to ``other_language`` for messages in other languages.

    Placed after the intent classifier: a message the detector found to be in a
    language the assistant does not speak (Belarusian, Georgian, Spanish, …) gets
    the four-language notice, whatever the classifier guessed.
    """

    def process(self, messages: list[Message]) -> list[Message]:
        """Overrides the intent of messages detected as another language."""
        for message in messages:
            if detection_of(message).get("detected") == "other":
                override(message, OTHER_LANGUAGE_INTENT)
        return messages


def add_topic(message: Message, topic: str) -> None:
    """Give a contact lookup the ``topic`` entity when the classifier missed it."""
    entities = list(message.get(ENTITIES) or [])
    if any(e.get(ENTITY_ATTRIBUTE_TYPE) == "topic" for e in entities):
        return
    text = message.get(TEXT) or ""
    entities.append(
        {
            ENTITY_ATTRIBUTE_TYPE: "topic",
            ENTITY_ATTRIBUTE_VALUE: topic,
            ENTITY_ATTRIBUTE_START: 0,
            ENTITY_ATTRIBUTE_END: len(text),
            EXTRACTOR: SafetyNet.__name__,
        }
    )
    message.set(ENTITIES, entities, add_to_output=True)


def override(message: Message, intent: str) -> None:
    """Make ``intent`` the message's intent with confidence 1.0.

    The classifier's other candidates stay in the ranking at half their confidence,
    so that the fallback classifier's ambiguity check (top two closer than 0.1)
    never turns the override into a clarification.
    """
    chosen = {"name": intent, "confidence": 1.0}
    others = [
        {**r, "confidence": float(r.get("confidence") or 0.0) / 2}
        for r in message.get(INTENT_RANKING_KEY) or []
        if r.get("name") != intent
    ]
    message.set(INTENT, chosen, add_to_output=True)
    message.set(INTENT_RANKING_KEY, [chosen, *others], add_to_output=True)


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False
)
class SafetyNet(IntentOverride):
    """Routes a message with a danger, crisis or trafficking cue to that answer.

    Placed after the intent classifier and the other-language router, before the
    fallback classifier: whatever the classifier chose (an unrelated intent, a low
    confidence that would end in the clarification, the other-language notice), a
    message carrying a cue (:func:`iom.core.safety.safety_cue`) gets the safety
    intent with confidence 1.0. Safety intents, requests for a person and IOM
    contact requests are left as they are. A message without a cue that the
    fallback classifier would turn into a clarification (``doubt_threshold`` and
    ``doubt_ambiguity``, the fallback classifier's own values in config.yml) gets the
    safety intent among the classifier's top two when it has at least
    ``doubt_minimum`` confidence (:func:`iom.core.safety.safety_under_doubt`), if
    it has at least ``doubt_min_words`` words, one of them a word that a dictionary
    of the four languages knows (:func:`iom.core.transliteration.is_known_word`). The
    parse data records the override under ``safety_net`` for the console.
    """

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """When the classifier counts as unsure, and the least a safety intent needs."""
        return {
            "doubt_threshold": 0.45,
            "doubt_ambiguity": 0.1,
            "doubt_minimum": 0.2,
            "doubt_min_words": 3,
        }

    def __init__(self, config: dict[str, Any] | None = None) -> None:
        """Keeps the doubt settings."""
        self.config = {**self.get_default_config(), **(config or {})}

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SafetyNet:
        """Creates the component with its doubt settings."""
        return cls(config)

    def _doubt(self, message: Message) -> None:
        # One or two words ("Kutno", "hmm") say too little: a town typed as the
        # answer to the city question must not become a crisis. Short calls for
        # help ("pomocy", "help me") carry a cue.
        text = message.get(TEXT) or ""
        if len(text.split()) < int(self.config["doubt_min_words"]):
            return
        # The classifier's doubt says something only about words it can read:
        # gibberish ("xqzt vbnm kjhg") leaves every intent near its prior, and the
        # biggest safety intent must not win by its size.
        if not any(is_known_word(w) for w in WORD.findall(text)):
            return
        intent = (message.get(INTENT) or {}).get("name")
        chosen = safety_under_doubt(
            list(message.get(INTENT_RANKING_KEY) or []),
            float(self.config["doubt_threshold"]),
            float(self.config["doubt_ambiguity"]),
            float(self.config["doubt_minimum"]),
        )
        if chosen is None:
            return
        override(message, chosen)
        if chosen != intent:
            message.set(
                SAFETY_NET_KEY,
                {"from": intent, "to": chosen, "reason": "doubt"},
                add_to_output=True,
            )

    def process(self, messages: list[Message]) -> list[Message]:
        """Overrides the intent of messages with a safety cue, or unsure ones."""
        for message in messages:
            cue = safety_cue(message.get(TEXT) or "")
            if cue is None:
                self._doubt(message)
                continue
            intent = (message.get(INTENT) or {}).get("name")
            if intent in KEEP[cue]:
                # Keep the intent, and make it certain: the fallback classifier
                # must not turn a low-confidence safety intent into a clarification.
                override(message, str(intent))
                if intent == CONTACT_INTENT and cue == TRAFFICKING:
                    add_topic(message, TRAFFICKING_TOPIC)
                continue
            override(message, cue)
            message.set(SAFETY_NET_KEY, {"from": intent, "to": cue}, add_to_output=True)
        return messages


def language_of(parse_data: dict[str, Any] | None) -> dict[str, Any]:
    """The language detection in a tracker's ``latest_message.parse_data``."""
    return (parse_data or {}).get(LANGUAGE_KEY) or {}
