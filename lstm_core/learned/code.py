"""The code model: a character-level LSTM trained on the standard library's Python source.

`train_code` trains it with truncated backpropagation through time: the corpus is cut into
BATCH_SIZE parallel streams, each step reads the next CHUNK_LEN characters of every stream
and carries the states on (detached), so the model sees lines, brackets and strings longer
than one chunk. Its cells are then found on held-out source (`corpus.held_out_text`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

from lstm_core.analysis.cell_finder import UnitMatch, find_cells
from lstm_core.io.strict_json import json_line
from lstm_core.learned.charmodel import (
    VOCAB_SIZE,
    CharConfig,
    CharLSTM,
    encode,
    model_from_bytes,
    next_character_loss,
    run_steps,
    text_states,
    weights_header,
    weights_to_bytes,
)
from lstm_core.learned.corpus import (
    HELD_OUT_MAX_CHARS,
    held_out_text,
    training_text,
)
from lstm_core.learned.labels import label_text
from lstm_core.learned.outcome import TrainOutcome

# The one-layer recipe `train --task code` runs by default (its time is in the README).
# The shipped model stacks two such layers, trained in several runs (weights/code.training.txt).
DEFAULT_HIDDEN_DIM = 256  # units per layer
DEFAULT_NUM_LAYERS = 1
DEFAULT_STEPS = 5_700
CORPUS_CHARS = 40_000_000  # above the whole standard library with its tests: all of it
CORPUS_WITH_TESTS = True  # the stdlib's test suites are Python source too
BATCH_SIZE = 32  # parallel streams of the corpus
# Characters per stream per step: the backpropagation window. Strings and bracketed
# expressions often span more than one line; a longer window lets their cells learn.
CHUNK_LEN = 512
LEARNING_RATE = 3e-3  # Adam's peak rate, decayed by a cosine to a tenth over the run
WARMUP_STEPS = 100
GRAD_CLIP = 1.0  # max global gradient norm
LOSS_WINDOW = 100  # final_loss is the mean training loss of the last this-many steps

# on_step(step, total_steps, loss) after each step; returning True stops the training.
StepCallback = Callable[[int, int, float], bool | None]


def _learning_rate(step: int, progress: float, peak: float = LEARNING_RATE) -> float:
    """Linear warm-up to `peak`, then a cosine from `peak` down to `peak` / 10 as `progress`
    goes from 0 to 1."""
    if step < WARMUP_STEPS:
        return peak * (step + 1) / WARMUP_STEPS
    return peak * (0.1 + 0.45 * (1 + math.cos(math.pi * min(1.0, progress))))


def unigram_loss(train_ids: torch.Tensor, ids: torch.Tensor) -> float:
    """Cross-entropy (nats per character) of `ids` under the training characters' frequencies
    (add-one smoothed): the baseline a model that reads no context reaches."""
    counts = torch.bincount(train_ids, minlength=VOCAB_SIZE).double() + 1.0
    log_p = counts.log() - counts.sum().log()
    return float(-log_p[ids].mean())


def evaluate(model: CharLSTM, text: str) -> tuple[float, dict[str, UnitMatch]]:
    """Loss (nats per character) on `text` and each label's best unit there."""
    states = text_states(model, text)
    return next_character_loss(model, states), find_cells(states.c, states.h, label_text(text))


def train_code(
    seed: int,
    hidden_dim: int | None = None,
    steps: int | None = None,
    on_step: StepCallback | None = None,
    *,
    embedding_dim: int = 32,
    num_layers: int = DEFAULT_NUM_LAYERS,
    corpus_chars: int = CORPUS_CHARS,
    corpus_with_tests: bool = CORPUS_WITH_TESTS,
    chunk_len: int = CHUNK_LEN,
    batch_size: int = BATCH_SIZE,
    learning_rate: float = LEARNING_RATE,
    init_from: Path | None = None,
    dropout: float = 0.0,
    chrono_timescale: int = 0,
    held_out_chars: int = HELD_OUT_MAX_CHARS,
    max_seconds: float | None = None,
    checkpoint: Path | None = None,
    checkpoint_every: int = 500,
    on_checkpoint: Callable[[int, CharLSTM], None] | None = None,
) -> TrainOutcome:
    """Train the code model; the seed draws the corpus subset, the weights and the stream
    offsets, each from its own private generator.

    `num_layers` stacks LSTM layers of `hidden_dim` units each. `corpus_chars` bounds the training
    text (the stdlib's test suites in it when `corpus_with_tests`), `held_out_chars` the held-out
    one; `chunk_len` is the backpropagation window over `batch_size` streams; `learning_rate` is
    Adam's peak rate. `init_from` names a weights file of the same size to continue from instead of
    the seed's random weights. `dropout` zeroes that share of each layer's h where the next layer or
    the head reads it, and scales the rest by 1 / (1 - dropout), during training only (masks drawn
    from the seed's own generator; the training loss is then taken with dropout on, the held-out
    figures without). `chrono_timescale` T > 1 starts every unit with a memory of its own length
    (chrono initialisation, Tallec & Ollivier 2018): forget bias log(u) and input bias -log(u), u
    drawn uniformly from [1, T - 1] by the seed's own generator, instead of the forget bias of 1;
    only for random weights. `hidden_dim` and `steps` default to DEFAULT_HIDDEN_DIM and
    DEFAULT_STEPS. Training stops early when `on_step` returns True or after `max_seconds` (the
    learning rate then decays by whichever of steps or seconds is further along). Every
    `checkpoint_every` steps the weights so far are written to `checkpoint` (safetensors, also at
    the end) and `on_checkpoint(step, model)` is called.
    Returns the outcome with held-out loss, the unigram baseline and the cells on held-out text.
    """
    hidden_dim = DEFAULT_HIDDEN_DIM if hidden_dim is None else hidden_dim
    steps = DEFAULT_STEPS if steps is None else steps
    if min(hidden_dim, steps, num_layers, batch_size, chunk_len) < 1:
        raise ValueError("hidden_dim, num_layers, steps, batch_size and chunk_len must be >= 1")
    if not learning_rate >= 0:  # also refuses NaN
        raise ValueError(f"learning_rate must be a number >= 0, got {learning_rate}")
    if max_seconds is not None and not max_seconds > 0:  # also refuses NaN
        raise ValueError(f"max_seconds must be a number > 0, got {max_seconds}")
    if not 0 <= dropout < 1:
        raise ValueError(f"dropout must be in [0, 1), got {dropout}")
    if chrono_timescale and (chrono_timescale < 2 or init_from is not None):
        raise ValueError("chrono_timescale must be >= 2, and only for random weights")
    config = CharConfig(hidden_dim=hidden_dim, embedding_dim=embedding_dim, num_layers=num_layers)
    model = CharLSTM(config, torch.Generator().manual_seed(seed))
    if chrono_timescale:
        _chrono_init(model, chrono_timescale, torch.Generator().manual_seed(seed + 3))
    init_metadata: dict[str, str] = {}
    if init_from is not None:
        start, start_metadata = model_from_bytes(init_from.read_bytes())
        if start.config != config:
            raise ValueError(f"{init_from} holds a model of {start.config}, not {config}")
        model.load_state_dict(start.state_dict())
        init_metadata = {"init_from": init_from.name, "init_steps": run_steps(start_metadata)}
    ids = encode(training_text(seed, corpus_chars, with_tests=corpus_with_tests))  # (N,)
    stream_len = ids.shape[0] // batch_size
    streams = ids[: stream_len * batch_size].view(batch_size, stream_len)  # (B, N / B)
    offsets = torch.Generator().manual_seed(seed + 1)
    # Each stream starts at its own random point and wraps around, so that the streams are
    # not in step with one another's file boundaries.
    shifts = torch.randint(0, stream_len, (batch_size,), generator=offsets)
    streams = torch.stack(
        [row.roll(-int(shift)) for row, shift in zip(streams, shifts, strict=True)]
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)
    forward = _dropout_forward(model, dropout, seed) if dropout > 0 else model
    state: tuple[torch.Tensor, torch.Tensor] | None = None
    position = 0
    losses: list[float] = []
    base_metadata = {
        "task": "code",
        "seed": str(seed),
        "torch": torch.__version__,
        "corpus_chars": str(ids.shape[0]),
        "corpus_with_tests": str(corpus_with_tests).lower(),
        "chunk_len": str(chunk_len),
        "batch_size": str(batch_size),
        "learning_rate": str(learning_rate),
        **({"dropout": str(dropout)} if dropout > 0 else {}),
        **({"chrono_timescale": str(chrono_timescale)} if chrono_timescale else {}),
        **init_metadata,
    }
    started = time.perf_counter()
    model.train()
    # On PyTorch's default CPU kernel (oneDNN), several times faster to train than the native
    # one; not inside default_kernel(), whose lock would hold every other run back meanwhile.
    for step in range(steps):
        if position + chunk_len + 1 > stream_len:
            position, state = 0, None
        window = streams[:, position : position + chunk_len + 1]  # (B, T + 1)
        position += chunk_len
        progress = step / steps
        if max_seconds is not None:
            progress = max(progress, (time.perf_counter() - started) / max_seconds)
        for group in optimizer.param_groups:
            group["lr"] = _learning_rate(step, progress, learning_rate)
        logits, (h_n, c_n) = forward(window[:, :-1], state)  # (B, T, V)
        state = (h_n.detach(), c_n.detach())
        loss = nn.functional.cross_entropy(
            logits.reshape(-1, VOCAB_SIZE), window[:, 1:].reshape(-1)
        )
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), GRAD_CLIP)
        optimizer.step()
        losses.append(loss.item())
        done = step + 1
        if done % checkpoint_every == 0:
            if checkpoint is not None:
                _write(checkpoint, model, {**base_metadata, "steps": str(done)})
            if on_checkpoint is not None:
                model.eval()
                on_checkpoint(done, model)
                model.train()
        if on_step is not None and on_step(done, steps, losses[-1]):
            break
        if max_seconds is not None and time.perf_counter() - started > max_seconds:
            break
    seconds = time.perf_counter() - started
    model.eval()
    held_out = held_out_text(seed, held_out_chars)
    held_out_loss, cells = evaluate(model, held_out.text)
    final_loss = sum(losses[-LOSS_WINDOW:]) / len(losses[-LOSS_WINDOW:])
    metadata = {
        **base_metadata,
        "steps": str(len(losses)),
        "seconds": f"{seconds:.1f}",
        "final_loss": f"{final_loss:.4f}",
        "held_out_source": held_out.source,
        "held_out_loss": f"{held_out_loss:.4f}",
    }
    if checkpoint is not None:
        _write(checkpoint, model, metadata)
    return TrainOutcome(
        task="code",
        seconds=seconds,
        final_loss=final_loss,
        held_out={
            "loss_nats_per_char": held_out_loss,
            "unigram_nats_per_char": unigram_loss(ids, encode(held_out.text)),
        },
        cells=cells,
        state={name: value.detach().clone() for name, value in model.state_dict().items()},
        # The header of the shipped weights, so that `train --save` writes a file that the
        # text view and `cells --model FILE` read.
        metadata=weights_header(config, metadata),
    )


def _chrono_init(model: CharLSTM, timescale: int, generator: torch.Generator) -> None:
    """Chrono initialisation of every layer: forget bias log(u), input bias -log(u), with u
    uniform in [1, timescale - 1] per unit, so that unit's C starts out keeping what it holds
    for about u steps."""
    hidden = model.config.hidden_dim
    with torch.no_grad():
        for k in range(model.config.num_layers):
            bias_ih = getattr(model.lstm, f"bias_ih_l{k}")  # (4H,): gates i, f, g, o
            bias_hh = getattr(model.lstm, f"bias_hh_l{k}")
            memory = torch.empty(hidden).uniform_(1.0, timescale - 1.0, generator=generator)
            bias_ih[hidden : 2 * hidden] = memory.log()
            bias_ih[:hidden] = -memory.log()
            bias_hh[: 2 * hidden] = 0.0


def _dropout_forward(
    model: CharLSTM, dropout: float, seed: int
) -> Callable[
    [torch.Tensor, tuple[torch.Tensor, torch.Tensor] | None],
    tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]],
]:
    """model's forward with dropout on each layer's h where the next layer or the head reads
    it. nn.LSTM's own dropout would draw from the global RNG; here each layer runs as a
    one-layer nn.LSTM on the stacked model's own parameters, and the masks come from a
    private generator (seed + 2)."""
    generator = torch.Generator().manual_seed(seed + 2)
    config = model.config
    layers = []
    for k in range(config.num_layers):
        width = config.embedding_dim if k == 0 else config.hidden_dim
        layer = nn.LSTM(width, config.hidden_dim, batch_first=True, device="meta")
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            # Shared, not copied: the gradient reaches the stacked model's parameter.
            setattr(layer, f"{name}_l0", getattr(model.lstm, f"{name}_l{k}"))
        layers.append(layer)

    def drop(values: torch.Tensor) -> torch.Tensor:
        keep = torch.rand(values.shape, generator=generator) >= dropout
        return values * keep / (1.0 - dropout)

    def forward(
        ids: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor] | None
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        values = model.embedding(ids)  # (B, T, E)
        finals_h, finals_c = [], []
        for k, layer in enumerate(layers):
            layer_state = None if state is None else (state[0][k : k + 1], state[1][k : k + 1])
            values, (h_n, c_n) = layer(values, layer_state)  # (B, T, H)
            values = drop(values)
            finals_h.append(h_n)
            finals_c.append(c_n)
        return model.head(values), (torch.cat(finals_h), torch.cat(finals_c))  # (L, B, H)

    return forward


def _write(path: Path, model: CharLSTM, metadata: dict[str, str]) -> None:
    """Write the weights to `path` through a temporary file, so a reader never sees half."""
    temporary = path.with_suffix(path.suffix + ".tmp")
    temporary.write_bytes(weights_to_bytes(model, metadata))
    temporary.replace(path)


def main(argv: list[str] | None = None) -> int:
    """Train the code model from the command line; progress and held-out cells on stderr."""
    import argparse
    import sys

    parser = argparse.ArgumentParser(prog="python -m lstm_core.learned.code")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--hidden-dim", type=int, default=None, help="units per layer")
    parser.add_argument(
        "--num-layers", type=int, default=DEFAULT_NUM_LAYERS, help="stacked LSTM layers"
    )
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--max-seconds", type=float, default=None)
    parser.add_argument("--save", type=Path, default=None, help="weights file (safetensors)")
    parser.add_argument("--checkpoint-every", type=int, default=500)
    parser.add_argument("--corpus-chars", type=int, default=CORPUS_CHARS)
    parser.add_argument(
        "--corpus-with-tests",
        action=argparse.BooleanOptionalAction,
        default=CORPUS_WITH_TESTS,
        help="the stdlib's test suites in the corpus",
    )
    parser.add_argument("--chunk-len", type=int, default=CHUNK_LEN, help="BPTT window")
    parser.add_argument(
        "--batch-size", type=int, default=BATCH_SIZE, help="parallel streams per step"
    )
    parser.add_argument(
        "--learning-rate", type=float, default=LEARNING_RATE, help="Adam's peak rate"
    )
    parser.add_argument(
        "--init-from",
        type=Path,
        default=None,
        help="continue from this weights file (same size) instead of random weights",
    )
    parser.add_argument(
        "--dropout",
        type=float,
        default=0.0,
        help="share of each layer's h zeroed where the next layer or the head reads it",
    )
    parser.add_argument(
        "--chrono-timescale",
        type=int,
        default=0,
        help="chrono initialisation up to this many steps (random weights only; 0: forget bias 1)",
    )
    # One thread by default, as `train --task code` uses: the ops are small, and a long job on
    # a shared machine should not take every core.
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    parser.add_argument("--json", action="store_true", help="print the outcome as JSON")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    started = time.perf_counter()
    held_out = held_out_text(args.seed).text

    def report_step(step: int, total: int, loss: float) -> None:
        if step % 50 == 0:
            minutes = (time.perf_counter() - started) / 60
            print(f"step {step}/{total} loss {loss:.4f} {minutes:.1f} min", file=sys.stderr)

    def report_cells(step: int, model: CharLSTM) -> None:
        loss, cells = evaluate(model, held_out)
        best = " ".join(
            f"{name} C {abs(m.r_c):.2f} h {abs(m.best_r_h):.2f}" for name, m in cells.items()
        )
        minutes = (time.perf_counter() - started) / 60
        print(f"eval step {step} {minutes:.1f} min held-out {loss:.4f} | {best}", file=sys.stderr)

    outcome = train_code(
        args.seed,
        args.hidden_dim,
        args.steps,
        report_step,
        num_layers=args.num_layers,
        corpus_chars=args.corpus_chars,
        corpus_with_tests=args.corpus_with_tests,
        chunk_len=args.chunk_len,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        init_from=args.init_from,
        dropout=args.dropout,
        chrono_timescale=args.chrono_timescale,
        max_seconds=args.max_seconds,
        checkpoint=args.save,
        checkpoint_every=args.checkpoint_every,
        on_checkpoint=report_cells,
    )
    if args.json:
        print(json_line(outcome.to_json()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
