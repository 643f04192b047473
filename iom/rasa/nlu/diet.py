"""Rasa's DIETClassifier, loaded for prediction without building its training graph.

Configured in config.yml as `iom.rasa.nlu.diet.LeanDIETClassifier`; it trains just like
Rasa's `DIETClassifier` (same code, same options, same checkpoint).

Why: to give the loaded model its variables, Rasa 3.6's `RasaModel.load` compiles
the model with an Adam optimizer and trains it for one step on one example
(`model.fit`), then overwrites the weights from the checkpoint. That traces the whole
training graph (gradients included) and creates the optimizer's slots: on the 2-core
machine most of the model load time, and memory the server keeps for its lifetime
(docs/performance.md). Here the variables come from one eager prediction on the same
example instead; the checkpoint is then restored into them (the optimizer's and the
training-only layers' values are left unread) and the prediction graph is traced
once, as Rasa does. Predictions are the same as with Rasa's loading
(`tests/test_diet_load.py` compares them). Fine-tuning (`rasa train --finetune`) needs
the training graph and uses Rasa's loading unchanged.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.classifiers.diet_classifier import DIET, DIETClassifier
from rasa.utils.tensorflow.model_data import RasaModelData
from rasa.utils.tensorflow.models import RasaModel

logger = logging.getLogger(__name__)


class LeanDIET(DIET):
    """Rasa's DIET model whose `load` skips the one-step training."""

    @classmethod
    def load(
        cls,
        model_file_name: str,
        model_data_example: RasaModelData,
        predict_data_example: RasaModelData | None = None,
        finetune_mode: bool = False,
        *args: Any,
        **kwargs: Any,
    ) -> RasaModel:
        """Build the prediction variables, restore the checkpoint, trace prediction."""
        if finetune_mode or predict_data_example is None:
            return super().load(
                model_file_name,
                model_data_example,
                predict_data_example,
                finetune_mode,
                *args,
                **kwargs,
            )
        model = cls(*args, **kwargs)
        # one eager prediction creates every variable prediction uses
        eager = model._run_eagerly
        model._run_eagerly = True
        model.run_inference(predict_data_example)
        model._run_eagerly = eager
        # that prediction cached the labels' embeddings from the initial weights
        model.prepared_for_prediction = False
        model._tf_predict_step = None
        model.load_weights(model_file_name).expect_partial()
        # trace the prediction graph now rather than on the first user message
        model.run_inference(predict_data_example)
        logger.debug("Loaded DIET for prediction from %s.", model_file_name)
        return model


@DefaultV1Recipe.register(
    [
        DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER,
        DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR,
    ],
    is_trainable=True,
)
class LeanDIETClassifier(DIETClassifier):
    """Rasa's DIETClassifier; only its model's loading differs (`LeanDIET`)."""

    @staticmethod
    def model_class() -> type[RasaModel]:
        """The TensorFlow model class (Rasa's `DIET`, loaded lean)."""
        return LeanDIET
