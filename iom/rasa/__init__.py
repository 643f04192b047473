"""Rasa adapters: NLU components, language policy, channels, tracker and lock stores."""
