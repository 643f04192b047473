"""Input channels for the IOM assistant (Rasa 3.6 channels, fixed and hardened)."""
