"""A character-level LSTM: embedding -> nn.LSTM -> linear, its vocabulary and its weights file.

Vocabulary: the printable ASCII characters (space to "~"), newline and tab, then one unknown
symbol for everything else. The model reads one character id per step and predicts the next
character's logits.

Shapes: B sequences, T characters, E embedding width, H units, V = len(VOCABULARY) + 1.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import torch
from torch import nn

from lstm_core.model.kernels import default_kernel
from lstm_core.model.simulate import GATE_NAMES, manual_trajectory, reference_trajectory

VOCABULARY: str = "".join(chr(code) for code in range(32, 127)) + "\n\t"
UNKNOWN_ID: int = len(VOCABULARY)
VOCAB_SIZE: int = len(VOCABULARY) + 1
_IDS: dict[str, int] = {char: index for index, char in enumerate(VOCABULARY)}
# How a character without a glyph is written wherever the app shows one character.
SHOWN: dict[str, str] = {"\n": "↵", "\t": "→"}
NEXT_CHARACTERS_SHOWN = 3  # likeliest next characters that expected_next names
WEIGHTS_FORMAT = "lstm-state-explorer/char-lstm"
# A weights file larger than this is refused before it is parsed.
MAX_WEIGHTS_BYTES = 64_000_000
# nn.LSTM's kernel is chosen under one process-wide lock that every session's runs take:
# reading a text holds it for this many characters at a time, so a long text never holds the
# others back for long.
KERNEL_WINDOW = 2_048


def encode(text: str) -> torch.Tensor:
    """Character ids of `text`: (len(text),) int64; characters outside VOCABULARY -> UNKNOWN_ID."""
    return torch.tensor([_IDS.get(char, UNKNOWN_ID) for char in text], dtype=torch.long)


@dataclass(frozen=True)
class CharConfig:
    """The shape of a character-level LSTM."""

    hidden_dim: int = 256  # H: LSTM units
    embedding_dim: int = 32  # E: width of a character's learned vector
    num_layers: int = 1  # L: stacked LSTM layers; the cells are read from all of them

    @property
    def units(self) -> int:
        """L·H: every layer's units, numbered layer by layer (a TextRun's columns)."""
        return self.num_layers * self.hidden_dim

    def layer_of(self, unit: int) -> int:
        """The layer that unit `unit` belongs to, counted from 0 as nn.LSTM's parameters
        (weight_ih_l0) and the app's layer pickers count them."""
        if not 0 <= unit < self.units:
            raise ValueError(f"unit must be in 0..{self.units - 1}, got {unit}")
        return unit // self.hidden_dim


class CharLSTM(nn.Module):
    """embedding (V, E) -> nn.LSTM(E, H, L, batch_first) -> head (H -> V)."""

    def __init__(self, config: CharConfig, generator: torch.Generator | None = None) -> None:
        super().__init__()
        self.config = config
        hidden = config.hidden_dim
        # Built on the meta device, then drawn from `generator`: nn's own init would draw
        # from the global RNG.
        self.embedding = nn.Embedding(VOCAB_SIZE, config.embedding_dim, device="meta")
        self.lstm = nn.LSTM(
            config.embedding_dim, hidden, config.num_layers, batch_first=True, device="meta"
        )
        self.head = nn.Linear(hidden, VOCAB_SIZE, device="meta")
        self.to_empty(device="cpu")
        generator = torch.Generator().manual_seed(0) if generator is None else generator
        bound = 1.0 / math.sqrt(hidden)
        with torch.no_grad():
            self.embedding.weight.normal_(0.0, 1.0, generator=generator)
            for parameter in (*self.lstm.parameters(), *self.head.parameters()):
                parameter.uniform_(-bound, bound, generator=generator)
            for k in range(config.num_layers):
                # A forget bias of 1 (Jozefowicz et al. 2015): C keeps what it holds at first.
                getattr(self.lstm, f"bias_ih_l{k}")[hidden : 2 * hidden] += 1.0

    def forward(
        self, ids: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor] | None = None
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        """ids (B, T) -> logits (B, T, V) and the final (h_n, c_n), each (L, B, H)."""
        x = self.embedding(ids)  # (B, T, E)
        output, final = self.lstm(x, state)  # (B, T, H)
        return self.head(output), final


def expected_next(
    logits: torch.Tensor, upcoming: str, top: int = NEXT_CHARACTERS_SHOWN
) -> list[str]:
    """After each step, the model's `top` likeliest next characters with their probabilities,
    then the character that does come next: T strings, from the model's logits (T, V) on a text
    and `upcoming`, the characters that follow each step (the text from its second character;
    steps beyond it say so)."""
    if logits.dim() != 2 or logits.shape[1] != VOCAB_SIZE:
        raise ValueError(f"logits must be (T, {VOCAB_SIZE}), got {tuple(logits.shape)}")
    probabilities, ids = logits.softmax(dim=-1).topk(top, dim=-1)  # (T, top) each
    words = []
    for t, (row, row_ids) in enumerate(zip(probabilities.tolist(), ids.tolist(), strict=True)):
        likeliest = "  ".join(
            f"{quoted_char(VOCABULARY[index]) if index < len(VOCABULARY) else 'another'} {p:.2f}"
            for p, index in zip(row, row_ids, strict=True)
        )
        comes = quoted_char(upcoming[t]) if t < len(upcoming) else "(the text ends)"
        words.append(f"{likeliest}  · next: {comes}")
    return words


def quoted_char(char: str) -> str:
    """One character as the app shows it: in quotes, a newline or tab as its glyph (SHOWN)."""
    return f"'{SHOWN.get(char, char)}'"


def run_steps(metadata: dict[str, str]) -> str:
    """Every training run's steps behind a weights file, earliest first: "5687", or
    "3375 + 1990" for a model continued from an earlier run's weights (its `init_steps`,
    written by the trainer as this same string for the file it started from)."""
    earlier = metadata.get("init_steps")
    own = metadata.get("steps", "?")
    return own if earlier is None else f"{earlier} + {own}"


def trained_steps(metadata: dict[str, str]) -> str:
    """run_steps as a person reads them: "5,687", or "3,375 + 1,990"."""
    runs = run_steps(metadata).split(" + ")
    return " + ".join(f"{int(run):,}" if run.isdigit() else run for run in runs)


def unit_name(unit: int, config: CharConfig) -> str:
    """How a page names unit `unit` of a TextRun: "unit 37", or in a stacked model
    "unit 37 (layer 0)" and "unit 300 (layer 1, its unit 44)" (layers counted from 0, see
    CharConfig.layer_of; in the first layer a unit's number is its own)."""
    config.layer_of(unit)  # checks the range
    return stacked_unit_name(unit, config.hidden_dim, config.num_layers)


def stacked_unit_name(unit: int, hidden_size: int, num_layers: int) -> str:
    """unit_name for units numbered layer by layer in any stack of `num_layers` layers of
    `hidden_size` units (the cell finder's numbering)."""
    layer, own = divmod(unit, hidden_size)
    if num_layers == 1:
        return f"unit {unit}"
    if layer == 0:
        return f"unit {unit} (layer 0)"
    return f"unit {unit} (layer {layer}, its unit {own})"


@dataclass(frozen=True)
class TextStates:
    """A model read over one text from zero states: h and C of every layer's units, side by
    side.

    Unit k is unit k % H of layer k // H (layers counted from 0 here; L·H units in all, H of
    a one-layer model), so the cell finder searches every layer. h is nn.LSTM's h of each
    layer (simulate.reference_trajectory: one nn.LSTM call per layer and KERNEL_WINDOW
    characters, states carried, each layer reading the one below, as inside nn.LSTM); c comes
    from the hand-written equations with the same weights, each step reading nn.LSTM's
    h_{t-1} (see simulate.manual_trajectory).
    """

    text: str
    h: torch.Tensor  # (T, L·H) nn.LSTM's hidden state after each character
    c: torch.Tensor  # (T, L·H) the cell state after each character


@dataclass(frozen=True)
class TextRun(TextStates):
    """TextStates with the hand-written cell's gates and h, and the model's loss on the text."""

    gates: dict[str, torch.Tensor]  # "i", "f", "g", "o" -> (T, L·H)
    manual_h: torch.Tensor  # (T, L·H) the hand-written cell's h, to check against h
    loss: float  # mean next-character cross-entropy over the text, nats per character; NaN
    # for a one-character text (nothing after it to predict)

    @property
    def max_h_difference(self) -> float:
        """Largest |h| difference between the hand-written cell and nn.LSTM, over the text."""
        return (self.manual_h - self.h).abs().max().item()


def _read(model: CharLSTM, text: str, with_gates: bool) -> dict[str, torch.Tensor]:
    """The states after each character, each (T, L·H): "h" (nn.LSTM's) and "c" (the
    written-out equations'), with `with_gates` also "manual_h" and the gates "i", "f", "g",
    "o".

    The text is read KERNEL_WINDOW characters at a time, both trajectories carried from one
    window into the next, so the working memory beyond the outputs is one window's.
    """
    if not text:
        raise ValueError("the text is empty")
    ids = encode(text)  # (T,)
    config = model.config
    units = config.num_layers * config.hidden_dim
    names = ["h", "c"] + (["manual_h", *GATE_NAMES] if with_gates else [])
    dtype = model.embedding.weight.dtype
    out = {name: torch.empty(ids.shape[0], units, dtype=dtype) for name in names}  # (T, L·H)
    reference: tuple[torch.Tensor, torch.Tensor] | None = None  # nn.LSTM's (h, c): (L, 1, H)
    manual: tuple[torch.Tensor, torch.Tensor] | None = None  # nn.LSTM's h, the cell's own C
    for start in range(0, ids.shape[0], KERNEL_WINDOW):
        x = model.embedding(ids[None, start : start + KERNEL_WINDOW])  # (1, W, E)
        window = slice(start, start + x.shape[1])
        # PyTorch's default kernel, as the Explorer's trace and a user's own call run it (and
        # faster than the native one over a long text).
        with default_kernel():
            h_window, c_n = reference_trajectory(model.lstm, x, reference)  # (L, 1, W, H)
        # The written-out equations call no nn.LSTM kernel: no lock needed.
        manual_h, manual_c, gates = manual_trajectory(model.lstm, x, h_window, manual)
        reference = (h_window[:, :, -1], c_n)
        manual = (h_window[:, :, -1], manual_c[:, :, -1])
        pieces = {"h": h_window, "c": manual_c, "manual_h": manual_h, **gates}
        for name in names:
            out[name][window] = _side_by_side(pieces[name])
    return out


@torch.no_grad()
def run_text(model: CharLSTM, text: str) -> TextRun:
    """Read `text` (at least one character) with `model`: states, gates and loss."""
    states = _read(model, text, with_gates=True)
    read = TextStates(text=text, h=states["h"], c=states["c"])
    return TextRun(
        text=text,
        h=read.h,
        c=read.c,
        gates={name: states[name] for name in GATE_NAMES},
        manual_h=states["manual_h"],
        loss=next_character_loss(model, read),
    )


@torch.no_grad()
def next_character_loss(model: CharLSTM, states: TextStates) -> float:
    """The mean cross-entropy of the model's next-character predictions over the text that
    `states` were read on, in nats per character; NaN for a one-character text."""
    ids = encode(states.text)  # (T,)
    if ids.shape[0] < 2:
        return float("nan")
    last_layer = states.h[:-1, -model.config.hidden_dim :]  # (T - 1, H): the last layer predicts
    return nn.functional.cross_entropy(model.head(last_layer), ids[1:]).item()


@torch.no_grad()
def text_states(model: CharLSTM, text: str) -> TextStates:
    """A TextRun's h and c alone: what ranking units needs, without the gates and the
    hand-written h (on a long text, most of run_text's memory)."""
    states = _read(model, text, with_gates=False)
    return TextStates(text=text, h=states["h"], c=states["c"])


def _side_by_side(states: torch.Tensor) -> torch.Tensor:
    """(L, 1, T, H) -> (T, L·H): layer k's units at columns k·H to k·H + H - 1."""
    layers, _, steps, hidden = states.shape
    return states[:, 0].permute(1, 0, 2).reshape(steps, layers * hidden)


def expected_shapes(config: CharConfig) -> dict[str, tuple[int, ...]]:
    """The state_dict keys and shapes of CharLSTM(config)."""
    hidden, width = config.hidden_dim, config.embedding_dim
    shapes: dict[str, tuple[int, ...]] = {"embedding.weight": (VOCAB_SIZE, width)}
    for k in range(config.num_layers):
        shapes[f"lstm.weight_ih_l{k}"] = (4 * hidden, width if k == 0 else hidden)
        shapes[f"lstm.weight_hh_l{k}"] = (4 * hidden, hidden)
        shapes[f"lstm.bias_ih_l{k}"] = (4 * hidden,)
        shapes[f"lstm.bias_hh_l{k}"] = (4 * hidden,)
    shapes["head.weight"] = (VOCAB_SIZE, hidden)
    shapes["head.bias"] = (VOCAB_SIZE,)
    return shapes


def weights_header(config: CharConfig, metadata: dict[str, str]) -> dict[str, str]:
    """`metadata` with what `model_from_bytes` needs to rebuild a model of `config`: the
    format, the vocabulary and the sizes."""
    return {
        **metadata,
        "format": WEIGHTS_FORMAT,
        "vocabulary": json.dumps(VOCABULARY),
        "hidden_dim": str(config.hidden_dim),
        "embedding_dim": str(config.embedding_dim),
        "num_layers": str(config.num_layers),
    }


def weights_to_bytes(model: CharLSTM, metadata: dict[str, str]) -> bytes:
    """The model as safetensors bytes; its config and `metadata` in the header."""
    from safetensors.torch import save

    state = {name: value.detach().contiguous() for name, value in model.state_dict().items()}
    return save(state, metadata=weights_header(model.config, metadata))


def read_metadata(data: bytes) -> dict[str, str]:
    """The safetensors header's __metadata__ (8 bytes of header length, then JSON)."""
    length = int.from_bytes(data[:8], "little")
    if length <= 0 or 8 + length > len(data):
        raise ValueError("this is not a safetensors weights file (bad header length)")
    header = json.loads(data[8 : 8 + length].decode("utf-8"))  # ValueError if not JSON
    if not isinstance(header, dict):
        raise ValueError("this is not a safetensors weights file (its header is not a map)")
    metadata = header.get("__metadata__") or {}
    if not isinstance(metadata, dict):
        raise ValueError("this is not a safetensors weights file (its metadata is not a map)")
    return {str(k): str(v) for k, v in metadata.items()}


def read_safetensors(data: bytes, max_bytes: int) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """(state_dict, metadata) of safetensors bytes, nothing unpickled; ValueError with a plain
    reason when they are too large or no safetensors file."""
    from safetensors import SafetensorError
    from safetensors.torch import load

    if not isinstance(data, bytes | bytearray):
        raise ValueError("weights must be given as bytes")
    if len(data) > max_bytes:
        raise ValueError(f"the weights file is over {max_bytes // 1_000_000} MB")
    if len(data) < 8:
        raise ValueError("this is not a safetensors weights file (too short)")
    try:
        return load(bytes(data)), read_metadata(bytes(data))
    except (SafetensorError, ValueError, UnicodeDecodeError) as error:
        raise ValueError(f"this is not a safetensors weights file ({error})") from None


def model_from_bytes(data: bytes) -> tuple[CharLSTM, dict[str, str]]:
    """A CharLSTM and its metadata from safetensors bytes. Nothing is unpickled.

    Raises ValueError with a plain reason: not safetensors, too large, not a character LSTM,
    another vocabulary, missing or extra tensors, wrong shapes, non-finite values.
    """
    state, metadata = read_safetensors(data, MAX_WEIGHTS_BYTES)
    if metadata.get("format") != WEIGHTS_FORMAT:
        raise ValueError("this safetensors file holds no character-level LSTM")
    if metadata.get("vocabulary") != json.dumps(VOCABULARY):
        raise ValueError("this character LSTM was trained with another vocabulary")
    try:
        config = CharConfig(
            hidden_dim=int(metadata["hidden_dim"]),
            embedding_dim=int(metadata["embedding_dim"]),
            num_layers=int(metadata["num_layers"]),
        )
    except (KeyError, ValueError):
        raise ValueError("the character LSTM's metadata lacks its sizes") from None
    expected = expected_shapes(config)
    if set(state) != set(expected):
        raise ValueError("the tensors do not match a character-level LSTM of the stated size")
    for name, shape in expected.items():
        tensor = state[name]
        if tuple(tensor.shape) != shape or tensor.dtype != torch.float32:
            raise ValueError(f"{name} is {tuple(tensor.shape)} {tensor.dtype}, expected {shape}")
        if not torch.isfinite(tensor).all():
            raise ValueError(f"{name} holds non-finite values")
    model = CharLSTM(config)
    model.load_state_dict(state)
    model.eval()
    return model, metadata
