"""iom.rasa.nlu.linear: the linear SVM beside DIET, trained and loaded with Rasa's objects."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from iom.rasa.nlu.components import LanguageDetector, LemmaTokenizer
from iom.rasa.nlu.linear import LinearIntentBlend, LinearIntentModel, blend, softmax

CONTEXT = ExecutionContext(GraphSchema({}), "test")

EXAMPLES = {
    "ask_health": [
        "where can I see a doctor",
        "I need a doctor for my child",
        "gdzie znajdę lekarza",
        "потрібен лікар для дитини",
        "нужен врач, где записаться",
    ],
    "ask_housing": [
        "I am looking for a flat to rent",
        "where can I find a room",
        "szukam mieszkania do wynajęcia",
        "шукаю квартиру в оренду",
        "ищу квартиру снять недорого",
    ],
    "greet": ["hello", "hi there", "cześć", "привіт", "привет"],
}


def _processed(texts: list[str], tmp_path: Path) -> list[Message]:
    detector = LanguageDetector.create(
        LanguageDetector.get_default_config(), None, None, CONTEXT  # type: ignore[arg-type]
    )
    tokenizer = LemmaTokenizer.create(
        {**LemmaTokenizer.get_default_config(), "lemmatizer": "simplemma"},
        LocalModelStorage(tmp_path / "tok"),
        Resource("tok"),
        CONTEXT,
    )
    messages = [Message({TEXT: text}) for text in texts]
    detector.process(messages)
    tokenizer.process(messages)
    return messages


@pytest.fixture()
def training_data(tmp_path: Path) -> TrainingData:
    pairs = [(t, intent) for intent, texts in EXAMPLES.items() for t in texts]
    messages = _processed([t for t, _ in pairs], tmp_path)
    for message, (_, intent) in zip(messages, pairs, strict=False):
        message.set(INTENT, intent)
    return TrainingData(messages)


def _storage(tmp_path: Path) -> LocalModelStorage:
    (tmp_path / "models").mkdir(exist_ok=True)
    return LocalModelStorage(tmp_path / "models")


def _component(tmp_path: Path, **config: object) -> LinearIntentBlend:
    return LinearIntentBlend.create(
        {**LinearIntentBlend.get_default_config(), **config},
        _storage(tmp_path),
        Resource("linear"),
        CONTEXT,
    )


def test_trained_component_ranks_unseen_messages(
    tmp_path: Path, training_data: TrainingData
) -> None:
    component = _component(tmp_path)
    component.train(training_data)
    messages = _processed(
        ["my son needs a doctor", "szukam pokoju do wynajęcia", "шукаю кімнату"],
        tmp_path,
    )
    component.process(messages)
    assert [m.get(INTENT)["name"] for m in messages] == [
        "ask_health",
        "ask_housing",
        "ask_housing",
    ]
    ranking = messages[0].get(INTENT_RANKING_KEY)
    assert [r["name"] for r in ranking][0] == "ask_health"
    assert sum(r["confidence"] for r in ranking) == pytest.approx(1.0)


def test_loaded_component_predicts_what_the_trained_one_did(
    tmp_path: Path, training_data: TrainingData
) -> None:
    storage = _storage(tmp_path)
    resource = Resource("linear")
    config = LinearIntentBlend.get_default_config()
    trained = LinearIntentBlend.create(config, storage, resource, CONTEXT)
    trained.train(training_data)
    loaded = LinearIntentBlend.load(config, storage, resource, CONTEXT)
    texts = ["hello", "где найти врача", "flat for rent in Kraków"]
    first, second = _processed(texts, tmp_path), _processed(texts, tmp_path)
    trained.process(first)
    loaded.process(second)
    for a, b in zip(first, second, strict=False):
        assert a.get(INTENT)["name"] == b.get(INTENT)["name"]
        assert a.get(INTENT)["confidence"] == pytest.approx(b.get(INTENT)["confidence"])


def test_archive_holds_no_pickle(tmp_path: Path, training_data: TrainingData) -> None:
    component = _component(tmp_path)
    component.train(training_data)
    stored = list((tmp_path / "models").rglob("*"))
    names = sorted(p.name for p in stored if p.is_file())
    assert names == ["vocabulary.json", "weights.npz"]
    weights = next(p for p in stored if p.name == "weights.npz")
    with np.load(weights, allow_pickle=False) as arrays:
        assert set(arrays.files) == {"words_idf", "chars_idf", "coef", "intercept"}


def test_missing_model_leaves_the_previous_classifier_answer(tmp_path: Path) -> None:
    config = LinearIntentBlend.get_default_config()
    component = LinearIntentBlend.load(
        config, LocalModelStorage(tmp_path), Resource("nothing"), CONTEXT
    )
    message = Message({TEXT: "hello"})
    message.set(INTENT, {"name": "greet", "confidence": 0.9})
    component.process([message])
    assert message.get(INTENT) == {"name": "greet", "confidence": 0.9}


def test_message_without_text_is_left_alone(
    tmp_path: Path, training_data: TrainingData
) -> None:
    component = _component(tmp_path)
    component.train(training_data)
    empty = Message({})
    component.process([empty])
    assert empty.get(INTENT) is None


def test_blend_weights_diet_and_linear() -> None:
    intents = ["a", "b", "c"]
    diet = [{"name": "b", "confidence": 0.8}, {"name": "a", "confidence": 0.2}]
    ranked = blend(intents, [0.6, 0.3, 0.1], diet, diet_weight=0.5)
    assert ranked[0] == ("b", pytest.approx(0.55))
    assert ranked[1] == ("a", pytest.approx(0.4))
    assert ranked[2] == ("c", pytest.approx(0.05))


def test_blend_without_diet_is_the_linear_ranking() -> None:
    ranked = blend(["a", "b"], [0.3, 0.7], None, diet_weight=0.3)
    assert ranked == [("b", pytest.approx(0.7)), ("a", pytest.approx(0.3))]


def test_blend_ignores_intents_the_linear_model_does_not_know() -> None:
    diet = [
        {"name": "nlu_fallback", "confidence": 0.9},
        {"name": "a", "confidence": 0.1},
    ]
    ranked = blend(["a", "b"], [0.5, 0.5], diet, diet_weight=0.5)
    assert ranked[0] == ("a", pytest.approx(0.75))


def test_softmax_rows_sum_to_one_and_keep_order() -> None:
    probabilities = softmax(np.array([[1.0, -1.0, 0.0], [5.0, 5.0, 5.0]]), 5.0)
    assert probabilities.sum(axis=1) == pytest.approx([1.0, 1.0])
    assert list(np.argsort(-probabilities[0])) == [0, 2, 1]
    assert probabilities[1] == pytest.approx([1 / 3] * 3)


def test_two_intents_give_two_scores() -> None:
    docs = [[("hello", "hello")], [("hi", "hi")], [("doctor", "doctor")]]
    docs += [[("clinic", "clinic")]]
    model = LinearIntentModel.fit(docs, ["greet", "greet", "health", "health"])
    assert model.coef.shape[0] == 2
    scores = model.scores([[("doctor", "doctor")]])
    assert model.intents[int(np.argmax(scores))] == "health"
