"""Custom Rasa components for the IOM Poland assistant (language, lemmas, policy)."""
