"""What lets several Rasa instances share conversations (docs/deploy.md)."""
