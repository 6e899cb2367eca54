"""Dyck-1 brackets: predict the next symbol of `(`, `)` and filler text; a cell should count.

At every step the source emits `(` with probability P_OPEN, `)` with probability P_CLOSE when
a bracket is open (never at depth 0: its share goes to the fillers), else one of the filler
symbols, uniformly. The only thing that makes the next symbol predictable beyond its
frequency is whether the depth is 0, so a model beats the unigram baseline only by keeping
the count: the label is the bracket depth after each symbol.
"""

from __future__ import annotations

from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from lstm_core.learned.tasks import (
    Task,
    TaskBatch,
    TaskDefaults,
    TokenLSTM,
    init_parameters,
)

SYMBOLS: tuple[str, ...] = ("(", ")", "a", "b", "c")
OPEN, CLOSE = 0, 1
FILLERS = len(SYMBOLS) - 2
P_OPEN = 0.25
P_CLOSE = 0.25  # when depth > 0
EMBEDDING_DIM = 8


def dyck_sequences(
    size: int, seq_len: int, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """`size` Dyck-1 prefixes: symbol ids (B, T) long and the depth after each symbol (B, T)."""
    draw = torch.rand(size, seq_len, generator=generator)  # (B, T)
    filler = torch.randint(2, len(SYMBOLS), (size, seq_len), generator=generator)  # (B, T)
    tokens = torch.empty(size, seq_len, dtype=torch.long)
    depth = torch.empty(size, seq_len, dtype=torch.long)
    current = torch.zeros(size, dtype=torch.long)  # (B,)
    for t in range(seq_len):
        opens = draw[:, t] < P_OPEN
        closes = (draw[:, t] >= P_OPEN) & (draw[:, t] < P_OPEN + P_CLOSE) & (current > 0)
        tokens[:, t] = torch.where(opens, OPEN, torch.where(closes, CLOSE, filler[:, t]))
        current = current + opens.long() - closes.long()
        depth[:, t] = current
    return tokens, depth


def source_probabilities(depth: torch.Tensor) -> torch.Tensor:
    """The source's next-symbol distribution after a symbol at each depth: (..., V)."""
    open_now = (depth > 0).unsqueeze(-1)  # (..., 1)
    close = torch.where(open_now, P_CLOSE, 0.0)
    filler = (1.0 - P_OPEN - close) / FILLERS
    fillers = filler.expand(*close.shape[:-1], FILLERS)
    return torch.cat([torch.full_like(close, P_OPEN), close, fillers], dim=-1)


class BracketsTask(Task):
    """Next symbol of Dyck-1 text with fillers; label "depth". Score in nats per symbol."""

    name: ClassVar[str] = "brackets"
    description: ClassVar[str] = (
        "Next symbol of `(`, `)` and filler text (Dyck-1): only whether a bracket is open makes "
        "`)` predictable, so a model beats the symbol frequencies only by keeping the count. "
        "Look for a unit whose C follows the depth while its h shows a squashed view of it."
    )
    defaults: ClassVar[TaskDefaults] = TaskDefaults(
        hidden_dim=16, steps=200, batch_size=128, lr=2e-2, seq_len=64, busy_rate=440.0
    )
    seq_len_range: ClassVar[tuple[int, int]] = (2, 1000)
    test_sequences: ClassVar[int] = 256

    def batch(self, size: int, seq_len: int, generator: torch.Generator) -> TaskBatch:
        tokens, depth = dyck_sequences(size, seq_len, generator)
        return TaskBatch(inputs=tokens, targets=tokens[:, 1:], labels={"depth": depth.float()})

    def new_model(self, hidden_dim: int, generator: torch.Generator) -> nn.Module:
        model = TokenLSTM(len(SYMBOLS), EMBEDDING_DIM, hidden_dim)
        return init_parameters(model, hidden_dim, generator)

    def lstm_input(self, model: nn.Module, inputs: torch.Tensor) -> torch.Tensor:
        return model.embedding(inputs)  # (B, T, E)

    def step_words(self, inputs: torch.Tensor) -> list[list[str]]:
        return [[SYMBOLS[token] for token in row] for row in inputs.tolist()]

    def step_answers(self, output: torch.Tensor, batch: TaskBatch) -> list[list[str]]:
        # P(")" next) is the one answer that needs the count: the source's is P_CLOSE at
        # depth > 0 and 0 at depth 0.
        closing = output.softmax(dim=-1)[..., CLOSE]  # (B, T)
        source = source_probabilities(batch.labels["depth"])[..., CLOSE]  # (B, T)
        return [
            [f'P(")" next) {p:.2f} (source {q:.2f})' for p, q in zip(row, truth, strict=True)]
            for row, truth in zip(closing.tolist(), source.tolist(), strict=True)
        ]

    def loss(self, output: torch.Tensor, batch: TaskBatch) -> torch.Tensor:
        logits = output[:, :-1]  # (B, T-1, V): step t predicts symbol t + 1
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), batch.targets.reshape(-1))

    def score(self, output: torch.Tensor, batch: TaskBatch) -> dict[str, float]:
        """nats per symbol of the model, of the unigram baseline (the held-out symbol
        frequencies, the best guess that keeps no count) and of the source itself (the best
        any model can do)."""
        targets = batch.targets.reshape(-1)  # (N,)
        counts = torch.bincount(targets, minlength=len(SYMBOLS)).double()
        frequency = counts / counts.sum()
        nonzero = frequency[frequency > 0]
        source = source_probabilities(batch.labels["depth"][:, :-1])  # (B, T-1, V)
        source_nats = -source.reshape(-1, len(SYMBOLS)).gather(1, targets[:, None]).log().mean()
        model_nats = self.loss(output, batch)
        return {
            "nats_per_symbol": float(model_nats),
            "baseline_nats": float(-(nonzero * nonzero.log()).sum()),
            "source_nats": float(source_nats),
        }

    def score_summary(self, score: dict[str, float]) -> str:
        gap = score["baseline_nats"] - score["source_nats"]  # what keeping the count can gain
        gained = (score["baseline_nats"] - score["nats_per_symbol"]) / gap if gap > 0 else 0.0
        verdict = (
            "it keeps the count."
            if gained >= 0.9
            else f"it keeps part of the count ({gained:.0%} of the way to the best)."
            if gained > 0.1
            else "it has not learned to keep the count: train longer or with another seed."
        )
        return (
            f"{score['nats_per_symbol']:.3f} nats per symbol on held-out text, against "
            f"{score['baseline_nats']:.3f} for the symbol frequencies alone (a model that keeps "
            f"no count) and {score['source_nats']:.3f} for the source itself (the best any "
            f"model can do): {verdict}"
        )
