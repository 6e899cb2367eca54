"""A trained LSTM from a file: safetensors, or a PyTorch checkpoint read without running code.

`read_tensors` turns file bytes into named tensors: safetensors, or `torch.load(...,
weights_only=True)` (PyTorch's restricted unpickler: tensors, dicts, lists, numbers; a pickle
that would call anything else is refused, never run). Nested dicts ({"state_dict": ...},
{"model": ..., "optimizer": ...}) are flattened to dotted names.

`find_lstm` finds an nn.LSTM among those names by its parameter names (`weight_ih_l0`, ...,
`_reverse`, `weight_hr_l{k}`), infers every size from the shapes and checks every tensor:
a bare nn.LSTM state_dict has the prefix "", one inside a model e.g. "encoder.lstm.".
`load_lstm` does both and builds the nn.LSTM (batch_first). Every refusal is a ValueError of
one sentence naming the file's problem.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import nn

from lstm_core.model.config import LIMITS, MAX_STATE_ELEMENTS

# Files above this are refused before parsing: a checkpoint may hold a whole model (embeddings,
# optimizer state) around its LSTM, and the whole file is read into memory.
MAX_CHECKPOINT_BYTES = 256_000_000
# Sizes a loaded LSTM may have: wider than the seeded runs' LIMITS (real models read embeddings
# of hundreds of features) but bounded, so one upload cannot take a shared server's memory.
MODEL_LIMITS: dict[str, tuple[int, int]] = {
    "input_size": (1, 4096),
    "hidden_size": (1, 2048),
    "num_layers": (1, 8),
}
# What one run of a loaded LSTM keeps: layers x directions x batch x steps x units, the cap of
# the seeded runs (lstm_core.model.config.MAX_STATE_ELEMENTS).
MAX_LOADED_STATES = MAX_STATE_ELEMENTS
MAX_STEPS = LIMITS["seq_len"][1]

_PARAMETER = re.compile(r"^(weight_ih|weight_hh|bias_ih|bias_hh|weight_hr)_l(\d+)(_reverse)?$")
# Wrappers a training script commonly saves the state_dict under.
_WRAPPERS = ("state_dict", "model", "model_state_dict", "module", "net")


@dataclass(frozen=True)
class LSTMSpec:
    """What nn.LSTM(...) a set of tensors is, every field inferred from their shapes."""

    prefix: str  # where its parameters sit in the file: "" (a bare nn.LSTM) or "encoder.lstm."
    input_size: int  # I: features per step
    hidden_size: int  # H: units of C and of every gate
    num_layers: int  # L
    bidirectional: bool  # True when `_reverse` parameters are present
    proj_size: int  # P > 0 when weight_hr_l{k} is present (h is P wide); 0 = none
    bias: bool  # True when bias_ih_l{k} / bias_hh_l{k} are present

    @property
    def num_directions(self) -> int:
        return 2 if self.bidirectional else 1

    @property
    def output_size(self) -> int:
        """The width of h: proj_size, or hidden_size without a projection."""
        return self.proj_size or self.hidden_size

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "num_directions": self.num_directions}

    def shapes(self) -> dict[str, tuple[int, ...]]:
        """Every parameter name nn.LSTM(...) with these sizes has, and its shape."""
        hidden, width = self.hidden_size, self.output_size
        shapes: dict[str, tuple[int, ...]] = {}
        for k in range(self.num_layers):
            features = self.input_size if k == 0 else self.num_directions * width
            for suffix in ("", "_reverse")[: self.num_directions]:
                shapes[f"weight_ih_l{k}{suffix}"] = (4 * hidden, features)
                shapes[f"weight_hh_l{k}{suffix}"] = (4 * hidden, width)
                if self.bias:
                    shapes[f"bias_ih_l{k}{suffix}"] = (4 * hidden,)
                    shapes[f"bias_hh_l{k}{suffix}"] = (4 * hidden,)
                if self.proj_size:
                    shapes[f"weight_hr_l{k}{suffix}"] = (self.proj_size, hidden)
        return shapes

    def build(self, state_dict: Mapping[str, torch.Tensor], dtype: torch.dtype) -> nn.LSTM:
        """nn.LSTM(..., batch_first=True) in `dtype` holding `state_dict` (keys unprefixed)."""
        # Built on the meta device: nn.LSTM's own init would draw from the global RNG.
        lstm = nn.LSTM(
            self.input_size,
            self.hidden_size,
            self.num_layers,
            bias=self.bias,
            batch_first=True,
            bidirectional=self.bidirectional,
            proj_size=self.proj_size,
            device="meta",
        ).to_empty(device="cpu")
        lstm.load_state_dict({name: tensor.to(dtype) for name, tensor in state_dict.items()})
        return lstm.to(dtype).eval()


@dataclass(frozen=True)
class LoadedLSTM:
    """An LSTM found in a file: its sizes and its parameters (names without the prefix)."""

    spec: LSTMSpec
    state_dict: dict[str, torch.Tensor]

    def module(self, dtype: torch.dtype = torch.float32) -> nn.LSTM:
        return self.spec.build(self.state_dict, dtype)


def _is_safetensors(data: bytes) -> bool:
    """A safetensors file starts with 8 bytes of header length, then a JSON object."""
    if len(data) < 10:
        return False
    length = int.from_bytes(data[:8], "little")
    return 2 <= length <= len(data) - 8 and data[8:9] == b"{"


def _flatten(value: Any, prefix: str, out: dict[str, torch.Tensor]) -> None:
    """Every tensor in nested dicts, lists and tuples, named by its dotted path."""
    if isinstance(value, torch.Tensor):
        out[prefix.rstrip(".")] = value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            _flatten(item, f"{prefix}{key}.", out)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _flatten(item, f"{prefix}{index}.", out)


def read_tensors(data: bytes) -> dict[str, torch.Tensor]:
    """The named tensors of a safetensors file or a PyTorch checkpoint, nothing executed.

    Raises ValueError: too large, neither format, a pickle that would run code, no tensors.
    """
    if not isinstance(data, bytes | bytearray):
        raise ValueError("the weights must be given as bytes")
    if len(data) > MAX_CHECKPOINT_BYTES:
        raise ValueError(
            f"the weights file is {len(data):,} bytes; the limit is {MAX_CHECKPOINT_BYTES:,}"
        )
    if _is_safetensors(bytes(data)):
        from safetensors import SafetensorError
        from safetensors.torch import load

        try:
            return dict(load(bytes(data)))
        except (SafetensorError, ValueError, UnicodeDecodeError) as error:
            raise ValueError(f"this is not a readable safetensors weights file ({error})") from None
    try:
        loaded = torch.load(io.BytesIO(bytes(data)), map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises UnpicklingError, RuntimeError, EOFError, ...
        text = str(error)
        if "Weights only load failed" in text or "Unsupported global" in text:
            found = re.search(r"(?:Unsupported global|GLOBAL) ([\w.]+)", text)
            what = f" (it calls {found.group(1)})" if found else ""
            raise ValueError(
                "this is not a safetensors weights file, and as a PyTorch checkpoint it was "
                f"refused: unpickling it would run code{what}; save the model's state_dict() "
                "with torch.save or safetensors instead"
            ) from None
        raise ValueError(
            "this is not a safetensors weights file nor a PyTorch checkpoint (torch.save)"
        ) from None
    tensors: dict[str, torch.Tensor] = {}
    _flatten(loaded, "", tensors)
    if not tensors:
        raise ValueError("this PyTorch checkpoint holds no tensors")
    return tensors


def lstm_prefixes(tensors: Mapping[str, torch.Tensor]) -> list[str]:
    """The prefixes at which an LSTM's `weight_ih_l0` sits, sorted ("" for a bare nn.LSTM)."""
    prefixes = {name[: -len("weight_ih_l0")] for name in tensors if name.endswith("weight_ih_l0")}
    return sorted(prefix for prefix in prefixes if prefix == "" or prefix.endswith("."))


def _show(prefix: str) -> str:
    return repr(prefix.rstrip(".")) if prefix else "'' (a bare nn.LSTM)"


def _pick_prefix(tensors: Mapping[str, torch.Tensor], wanted: str | None) -> str:
    found = lstm_prefixes(tensors)
    if not found:
        raise ValueError(
            "this file holds no LSTM: no tensor is named weight_ih_l0 (or ends in .weight_ih_l0)"
        )
    listed = ", ".join(_show(prefix) for prefix in found)
    if wanted is None:
        if len(found) > 1:
            raise ValueError(f"this file holds {len(found)} LSTMs; pick one by prefix: {listed}")
        return found[0]
    wanted = wanted.strip().rstrip(".")
    if wanted == "":
        matches = [p for p in found if p == ""]
    else:
        matches = [p for p in found if p == f"{wanted}." or p.endswith(f".{wanted}.")]
        # "encoder.lstm" also names "state_dict.encoder.lstm." (a wrapper around the model)
        exact = [p for p in matches if p == f"{wanted}."]
        matches = (
            exact
            or [p for p in matches if any(p == f"{w}.{wanted}." for w in _WRAPPERS)]
            or matches
        )
    if len(matches) != 1:
        raise ValueError(f"no single LSTM at prefix {wanted!r}; the file has: {listed}")
    return matches[0]


def find_lstm(tensors: Mapping[str, torch.Tensor], prefix: str | None = None) -> LoadedLSTM:
    """The nn.LSTM at `prefix` among named tensors (the only one when None), sizes inferred.

    Raises ValueError naming the problem: no LSTM, several and no prefix, a missing tensor, an
    unexpected one, a shape that contradicts the others, a non-float or non-finite value,
    sizes above MODEL_LIMITS.
    """
    chosen = _pick_prefix(tensors, prefix)
    where = f"the LSTM at prefix {_show(chosen)}" if chosen else "the LSTM"
    own = {
        name[len(chosen) :]: tensor
        for name, tensor in tensors.items()
        if name.startswith(chosen) and _PARAMETER.match(name[len(chosen) :])
    }
    for name, tensor in own.items():
        if not tensor.is_floating_point():
            raise ValueError(f"{where}: {name} holds {tensor.dtype} values, not floating point")
    first_ih, first_hh = own["weight_ih_l0"], own.get("weight_hh_l0")
    if first_hh is None:
        raise ValueError(f"{where} has weight_ih_l0 but no weight_hh_l0")
    if first_ih.dim() != 2 or first_hh.dim() != 2 or first_hh.shape[0] % 4:
        raise ValueError(
            f"{where}: weight_hh_l0 has shape {tuple(first_hh.shape)} and weight_ih_l0 "
            f"{tuple(first_ih.shape)}; an LSTM's are (4*hidden_size, ...) matrices"
        )
    layers = 1 + max(int(_PARAMETER.match(name).group(2)) for name in own)  # type: ignore[union-attr]
    projection = own.get("weight_hr_l0")
    if projection is not None and projection.dim() != 2:
        raise ValueError(
            f"{where}: weight_hr_l0 has shape {tuple(projection.shape)}; an LSTM's projection "
            "is a (proj_size, hidden_size) matrix"
        )
    spec = LSTMSpec(
        prefix=chosen,
        input_size=int(first_ih.shape[1]),
        hidden_size=int(first_hh.shape[0]) // 4,
        num_layers=layers,
        bidirectional=any(name.endswith("_reverse") for name in own),
        proj_size=0 if projection is None else int(projection.shape[0]),
        bias="bias_ih_l0" in own or "bias_hh_l0" in own,
    )
    for name, (low, high) in MODEL_LIMITS.items():
        value = getattr(spec, name)
        if not low <= value <= high:
            raise ValueError(f"{where} has {name} {value}; this app reads {low} to {high}")
    if spec.proj_size and spec.proj_size >= spec.hidden_size:
        raise ValueError(
            f"{where}: weight_hr_l0 projects {spec.hidden_size} units to {spec.proj_size}; "
            "nn.LSTM needs proj_size below hidden_size"
        )
    expected = spec.shapes()
    missing = [name for name in expected if name not in own]
    if missing:
        raise ValueError(
            f"{where} ({spec.num_layers} layer(s), {spec.num_directions} direction(s), "
            f"{'with' if spec.bias else 'without'} biases"
            f"{', projected' if spec.proj_size else ''}) has no {', '.join(missing[:4])}"
            f"{' and more' if len(missing) > 4 else ''}"
        )
    extra = sorted(set(own) - set(expected))
    if extra:
        raise ValueError(f"{where} has unexpected tensors: {', '.join(extra[:4])}")
    for name, shape in expected.items():
        if tuple(own[name].shape) != shape:
            raise ValueError(
                f"{where}: {name} has shape {tuple(own[name].shape)}, but an LSTM with input "
                f"size {spec.input_size}, hidden size {spec.hidden_size}"
                f"{f', proj_size {spec.proj_size}' if spec.proj_size else ''} needs {shape}"
            )
        if not bool(torch.isfinite(own[name]).all()):
            raise ValueError(f"{where}: {name} holds NaN or infinite values")
    return LoadedLSTM(spec=spec, state_dict={name: own[name] for name in expected})


def load_lstm(data: bytes, prefix: str | None = None) -> LoadedLSTM:
    """`find_lstm(read_tensors(data), prefix)`: the LSTM in a file's bytes."""
    return find_lstm(read_tensors(data), prefix)


def check_input(x: torch.Tensor, spec: LSTMSpec, batch_first: bool = True) -> None:
    """Raise ValueError unless x is (B, T, I) (batch_first) for this LSTM, within the caps."""
    if x.dim() != 3:
        raise ValueError(f"the input must be (batch, steps, features), got shape {tuple(x.shape)}")
    batch, steps, features = x.shape if batch_first else (x.shape[1], x.shape[0], x.shape[2])
    if features != spec.input_size:
        raise ValueError(
            f"the input has {features} features per step but the LSTM reads "
            f"{spec.input_size} (its weight_ih_l0 is {(4 * spec.hidden_size, spec.input_size)})"
        )
    if not 1 <= steps <= MAX_STEPS:
        raise ValueError(f"the input has {steps:,} steps; this app reads 1 to {MAX_STEPS:,}")
    check_run_size(spec, batch, steps)


def check_run_size(spec: LSTMSpec, batch: int, steps: int) -> None:
    """Raise ValueError when this LSTM over `batch` sequences of `steps` steps makes more
    states (L·D·B·T·H) than MAX_LOADED_STATES; callable before the input exists."""
    states = spec.num_layers * spec.num_directions * batch * steps * spec.hidden_size
    if states > MAX_LOADED_STATES:
        raise ValueError(
            f"layers x directions x batch x steps x hidden units = {states:,} states is above "
            f"the cap of {MAX_LOADED_STATES:,}; use fewer steps or batch items"
        )


def check_input_range(x: torch.Tensor, dtype: torch.dtype) -> None:
    """Raise ValueError when x holds a value `dtype` cannot (beyond its largest finite one):
    finite in a file's float64, it would run as infinity."""
    limit = torch.finfo(dtype).max
    if x.numel() and float(x.abs().max()) > limit:
        name = str(dtype).removeprefix("torch.")
        raise ValueError(f"the input holds values beyond {name}'s range (about {limit:.1e})")
