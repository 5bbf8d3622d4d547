"""Learning speed benchmark: how fast the learning cycle turns evaluated recommendations into patterns (``python -m bench.learning_speed``)."""
