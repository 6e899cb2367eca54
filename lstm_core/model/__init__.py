"""The model: run settings, input signals, the seeded nn.LSTM and its hand-written twin."""
