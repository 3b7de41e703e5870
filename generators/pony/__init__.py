"""pony: the built-in procedural audio-visual generator (no neural network) and its baselines."""
