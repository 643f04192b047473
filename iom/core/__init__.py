"""The assistant's core: pure Python that imports neither Rasa nor a web framework."""
