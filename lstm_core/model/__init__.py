"""The model: run settings, input signals, the seeded nn.LSTM, its hand-written twin, and the
CPU kernel and threads it runs on."""
