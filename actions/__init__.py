"""Custom actions of the IOM Poland assistant (served by `rasa run actions`)."""
