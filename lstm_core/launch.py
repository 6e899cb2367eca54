"""`lstm-explorer`: start the app, `streamlit run app.py`, from a clone or an installed copy.

`pip install .` installs lstm_core as a package and the app around it (app.py, pages/, ui/,
.streamlit/config.toml) as files under <prefix>/share/lstm-state-explorer. Streamlit is run
in the app's folder (this process becomes `python -m streamlit run`), so it reads that
folder's .streamlit/config.toml and gets the signals; lstm_core itself never imports Streamlit.
"""

from __future__ import annotations

import os
import site
import sys
import sysconfig
from collections.abc import Sequence
from pathlib import Path

APP_FOLDER = "lstm-state-explorer"


def app_folder() -> Path:
    """The folder holding app.py: this clone's root, else the installed share folder."""
    clone = Path(__file__).resolve().parents[1]
    candidates = [
        clone,
        Path(sysconfig.get_path("data")) / "share" / APP_FOLDER,
        Path(sys.prefix) / "share" / APP_FOLDER,
        Path(site.getuserbase()) / "share" / APP_FOLDER,
    ]
    for folder in candidates:
        if (folder / "app.py").is_file() and (folder / "pages").is_dir():
            return folder
    raise FileNotFoundError(
        f"lstm-explorer: the app (app.py, pages/) is neither beside lstm_core nor in "
        f"{candidates[1]}; reinstall with `pip install .` from the repository"
    )


def command(extra: Sequence[str] = ()) -> tuple[list[str], Path]:
    """The command that starts the app (extra Streamlit flags appended) and its folder."""
    folder = app_folder()
    return [sys.executable, "-m", "streamlit", "run", str(folder / "app.py"), *extra], folder


def main(argv: Sequence[str] | None = None) -> int:
    """Start the app; arguments go on to `streamlit run` (e.g. --server.port 8502)."""
    try:
        args, folder = command(sys.argv[1:] if argv is None else argv)
    except FileNotFoundError as error:
        print(error, file=sys.stderr)
        return 2
    os.chdir(folder)
    os.execv(sys.executable, args)  # does not return
