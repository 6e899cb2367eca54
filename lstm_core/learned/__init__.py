"""Trained LSTMs whose cell state holds something a person can read: tasks, the code model."""
