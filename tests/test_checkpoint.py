"""lstm_core.io.checkpoint: loading an LSTM from a file: every shape of nn.LSTM, both formats, bare
or inside a model."""

from __future__ import annotations

import io
import itertools
from pathlib import Path

import numpy as np
import pytest
import torch
from lstm_steps import one_thread, step_plain
from safetensors.torch import save
from torch import nn

from lstm_core.io import checkpoint
from lstm_core.io.checkpoint import (
    LSTMSpec,
    check_input,
    check_input_range,
    load_lstm,
    read_tensors,
)
from lstm_core.io.csv_input import parse_csv
from lstm_core.io.npy_input import parse_input, parse_npy
from lstm_core.model.trace import trace

pytestmark = pytest.mark.usefixtures(one_thread.__name__)
SHAPES = list(itertools.product((1, 2, 3), (False, True), (0, 2), (True, False)))


class _Model(nn.Module):
    """A larger model around an LSTM: an embedding in front, a readout behind."""

    def __init__(self, lstm: nn.LSTM) -> None:
        super().__init__()
        self.embed = nn.Linear(5, 3)
        self.encoder = nn.Sequential()
        self.encoder.add_module("lstm", lstm)
        self.readout = nn.Linear(4, 1)


def _lstm(layers: int, bidirectional: bool, proj: int, bias: bool) -> nn.LSTM:
    torch.manual_seed(layers * 8 + bidirectional * 4 + proj + bias)
    return nn.LSTM(3, 4, layers, bias=bias, bidirectional=bidirectional, proj_size=proj)


def _pt(value: object) -> bytes:
    buffer = io.BytesIO()
    torch.save(value, buffer)
    return buffer.getvalue()


def _files(lstm: nn.LSTM) -> dict[str, tuple[bytes, str]]:
    """The LSTM saved four ways: (bytes, the prefix it sits at)."""
    model = _Model(lstm)
    return {
        "bare.safetensors": (save(lstm.state_dict()), ""),
        "bare.pt": (_pt(lstm.state_dict()), ""),
        "model.safetensors": (save(model.state_dict()), "encoder.lstm."),
        "model.pt": (
            _pt({"state_dict": model.state_dict(), "epoch": 3}),
            "state_dict.encoder.lstm.",
        ),
    }


@pytest.mark.parametrize(("layers", "bidirectional", "proj", "bias"), SHAPES)
def test_round_trip_of_every_lstm_shape(
    layers: int, bidirectional: bool, proj: int, bias: bool
) -> None:
    lstm = _lstm(layers, bidirectional, proj, bias)
    x = torch.randn(2, 5, 3, generator=torch.Generator().manual_seed(0))
    h_plain, c_plain = step_plain(lstm, x)
    for name, (data, prefix) in _files(lstm).items():
        loaded = load_lstm(data)
        assert loaded.spec == LSTMSpec(prefix, 3, 4, layers, bidirectional, proj, bias), name
        module = loaded.module()
        for key, tensor in lstm.state_dict().items():
            assert torch.equal(module.state_dict()[key], tensor), (name, key)
        traced = trace(module, x)
        torch.testing.assert_close(traced.h, h_plain, rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(traced.c, c_plain, rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(traced.manual_h, h_plain, rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(traced.manual_c, c_plain, rtol=1e-5, atol=1e-5)


class _Payload:
    """Unpickling this opens (creates) a file: code a checkpoint must never run."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return (open, (str(self.marker), "w"))


def test_a_pickle_that_would_write_a_file_is_refused_and_writes_nothing(tmp_path: Path) -> None:
    marker = tmp_path / "payload-ran"
    data = _pt({"weight_ih_l0": _Payload(marker)})
    with pytest.raises(ValueError, match="unpickling it would run code"):
        load_lstm(data)
    assert not marker.exists()
    torch.load(io.BytesIO(data), weights_only=False)  # the control: an unsafe load runs it
    assert marker.exists()


def test_several_lstms_are_picked_by_prefix() -> None:
    model = _Model(_lstm(1, False, 0, True))
    model.decoder = nn.LSTM(4, 6, 2, bidirectional=True)
    data = _pt({"model": model.state_dict(), "optimizer": {"state": {}, "param_groups": []}})
    with pytest.raises(
        ValueError,
        match=r"holds 2 LSTMs; pick one by prefix: 'model\.decoder', 'model\.encoder\.lstm'$",
    ):
        load_lstm(data)
    assert load_lstm(data, "decoder").spec.hidden_size == 6
    assert load_lstm(data, "encoder.lstm").spec.hidden_size == 4
    assert load_lstm(data, "model.encoder.lstm.").spec.prefix == "model.encoder.lstm."
    assert load_lstm(data, "lstm").spec.prefix == "model.encoder.lstm."  # the one ending so
    with pytest.raises(ValueError, match="no single LSTM at prefix 'rnn'; the file has: "):
        load_lstm(data, "rnn")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda s: s.pop("bias_hh_l1"), "has no bias_hh_l1"),
        (lambda s: s.pop("weight_hh_l1_reverse"), "has no weight_hh_l1_reverse"),
        (lambda s: s.update(weight_hh_l1=torch.zeros(16, 3)), r"weight_hh_l1 has shape \(16, 3\)"),
        (lambda s: s.update(weight_ih_l3=torch.zeros(16, 8)), "weight_ih_l2"),
        (lambda s: s.update(weight_hr_l0=torch.zeros(4, 4)), "proj_size below hidden_size"),
        (lambda s: s.update(weight_hr_l0=torch.tensor(1.0)), r"weight_hr_l0 has shape \(\)"),
        (lambda s: s.update(bias_ih_l0=torch.zeros(16, dtype=torch.int64)), "not floating"),
        (lambda s: s["weight_ih_l0"].__setitem__((0, 0), float("nan")), "NaN or infinite"),
        (lambda s: s.update(weight_hh_l0=torch.zeros(15, 4)), r"\(4\*hidden_size"),
        (lambda s: s.clear() or s.update(bias=torch.zeros(2)), "holds no LSTM"),
    ],
)
def test_inconsistent_or_missing_tensors_get_one_sentence(change: object, message: str) -> None:
    state = {k: v.clone() for k, v in nn.LSTM(3, 4, 2, bidirectional=True).state_dict().items()}
    change(state)  # type: ignore[operator]
    with pytest.raises(ValueError, match=message) as caught:
        load_lstm(save(state))
    assert "\n" not in str(caught.value)


def test_caps_on_the_file_and_the_sizes(monkeypatch: pytest.MonkeyPatch) -> None:
    wide = {"weight_ih_l0": torch.zeros(4 * 4096, 1), "weight_hh_l0": torch.zeros(4 * 4096, 1)}
    with pytest.raises(ValueError, match="hidden_size 4096; this app reads 1 to 2048"):
        load_lstm(save(wide))
    monkeypatch.setattr(checkpoint, "MAX_CHECKPOINT_BYTES", 100)
    with pytest.raises(ValueError, match="the limit is 100"):
        read_tensors(save(nn.LSTM(3, 4).state_dict()))


def test_not_a_weights_file() -> None:
    with pytest.raises(ValueError, match="not a safetensors weights file nor a PyTorch"):
        read_tensors(b"this is a text file, not weights")
    with pytest.raises(ValueError, match="holds no tensors"):
        read_tensors(_pt({"epoch": 3}))


def test_the_input_is_checked_against_the_model() -> None:
    spec = load_lstm(save(nn.LSTM(3, 4, 2, bidirectional=True).state_dict())).spec
    check_input(torch.zeros(2, 5, 3), spec)
    with pytest.raises(ValueError, match="the input has 4 features per step but the LSTM reads 3"):
        check_input(torch.zeros(2, 5, 4), spec)
    with pytest.raises(ValueError, match="above the cap"):
        check_input(torch.zeros(64, 10_000, 3), spec)


def test_npy_input_shapes_and_refusals() -> None:
    def npy(array: np.ndarray) -> bytes:
        buffer = io.BytesIO()
        np.save(buffer, array, allow_pickle=True)
        return buffer.getvalue()

    assert parse_npy(npy(np.ones((5, 3), np.float32))).shape == (1, 5, 3)
    assert parse_npy(npy(np.ones((2, 5, 3), np.int32))).dtype == np.float64
    with pytest.raises(ValueError, match="holds Python objects"):
        parse_npy(npy(np.array([{"a": 1}], dtype=object)))
    with pytest.raises(ValueError, match=r"give \(steps, features\)"):
        parse_npy(npy(np.ones(4)))
    with pytest.raises(ValueError, match="NaN or infinite"):
        parse_npy(npy(np.array([[np.nan]])))
    with pytest.raises(ValueError, match=r"not a readable \.npy"):
        parse_npy(b"not an array at all")


def test_an_npy_header_is_checked_before_anything_is_allocated() -> None:
    def header_only(shape: tuple[int, ...], payload: bytes = b"") -> bytes:
        buffer = io.BytesIO()
        header = {"descr": "<f8", "fortran_order": False, "shape": shape}
        np.lib.format.write_array_header_1_0(buffer, header)
        return b"\x93NUMPY\x01\x00" + buffer.getvalue()[8:] + payload

    # A 100-byte file claiming 10^18 values: refused by its header, not by a MemoryError.
    with pytest.raises(ValueError, match="the limit is 25,000,000"):
        parse_npy(header_only((10**9, 10**9)))
    with pytest.raises(ValueError, match="but 8 follow"):
        parse_npy(header_only((2, 3), b"\x00" * 8))
    whole = header_only((2, 3), np.arange(6.0).tobytes())
    np.testing.assert_array_equal(parse_npy(whole), np.arange(6.0).reshape(1, 2, 3))


def test_an_input_file_is_read_by_its_extension() -> None:
    buffer = io.BytesIO()
    np.save(buffer, np.ones((2, 5, 3), np.float32))
    assert parse_input("x.NPY", buffer.getvalue()).shape == (2, 5, 3)
    values = parse_input("x.csv", b"a,b\n1,2\n3,4\n")  # (1, T, I)
    np.testing.assert_array_equal(values, [[[1.0, 2.0], [3.0, 4.0]]])
    assert values.dtype == np.float64
    with pytest.raises(ValueError, match="row 2 has 1 values"):
        parse_input("x.csv", b"1,2\n3\n")
    # A loaded model may read more features than the seeded model's input_dim cap allows.
    wide = (",".join(["0.5"] * 128) + "\n").encode()
    assert parse_input("wide.csv", wide).shape == (1, 1, 128)
    with pytest.raises(ValueError, match="128 columns"):
        parse_csv(wide)


def test_an_input_is_checked_against_the_range_of_the_dtype_it_runs_in() -> None:
    x = torch.tensor([[[1e39, -2.0]]], dtype=torch.float64)  # finite in float64
    check_input_range(x, torch.float64)
    with pytest.raises(ValueError, match=r"beyond float32's range \(about 3\.4e\+38\)"):
        check_input_range(x, torch.float32)
