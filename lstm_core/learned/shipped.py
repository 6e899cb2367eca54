"""The trained models that ship with the app, by name, and reading one from a file or a name."""

from __future__ import annotations

from pathlib import Path

from lstm_core.learned.charmodel import MAX_WEIGHTS_BYTES, CharLSTM, model_from_bytes

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
# name -> weights file inside the package, made by the project's own training command
# (the command is in the training log beside each file, and in the README).
SHIPPED_MODELS: dict[str, Path] = {"code": WEIGHTS_DIR / "code.safetensors"}


def weights_bytes(file_or_name: str) -> bytes:
    """The bytes of a shipped model (by name) or of a weights file (by path).

    Raises ValueError with a plain reason when neither exists or the file is too large.
    """
    path = SHIPPED_MODELS.get(file_or_name) or Path(file_or_name).expanduser()
    if not path.is_file():
        names = ", ".join(sorted(SHIPPED_MODELS))
        raise ValueError(
            f"{file_or_name!r} is neither a weights file nor a shipped model ({names})"
        )
    if path.stat().st_size > MAX_WEIGHTS_BYTES:
        raise ValueError(f"the weights file is over {MAX_WEIGHTS_BYTES // 1_000_000} MB")
    return path.read_bytes()


def load_text_model(file_or_name: str = "code") -> tuple[CharLSTM, dict[str, str]]:
    """A shipped text model (by name) or one saved by the training command's `--save` (by
    path), on the CPU in eval mode, with the metadata its file records (seed, steps, held-out
    loss, ...). Nothing in the file runs. Raises ValueError with a plain reason."""
    return model_from_bytes(weights_bytes(file_or_name))
