"""The IOM Poland migrant-support assistant (docs/architecture.md).

Layers: ``iom.core`` (pure Python: languages, directory, redaction, settings, tables),
``iom.rasa`` (Rasa components, policy, channels, stores), ``iom.console`` (the operator
console, FastAPI) and ``iom.tools`` (operational scripts). ``make lint`` enforces them.
"""
