"""The learning loop's pure parts (docs/nlu.md, "The learning loop").

Corrections to training examples, the regression gate's decision, the model
registry.

No Rasa, no FastAPI: `iom/tools/retrain.py` trains and evaluates, the console shows
and triggers, both through these modules.
"""
