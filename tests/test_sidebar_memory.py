"""ui.sidebar_memory: the Memory lab's sidebar controls (CSV upload, forget-gate init presets), run
on their own.

AppTest reruns only the page after an interaction, so sidebar widgets made in app.py
cannot be clicked twice there; these scripts hold just the control under test.
"""

from __future__ import annotations

from conftest import APPTEST_TIMEOUT
from streamlit.testing.v1 import AppTest


def csv_script() -> None:
    import streamlit as st

    from ui.sidebar_memory import csv_upload_control

    st.session_state.setdefault("signal", "csv")
    # "elsewhere": a page that does not draw the uploader (the Gate playground, the text view).
    if not st.session_state.get("elsewhere"):
        csv_upload_control()


def forget_init_script() -> None:
    import streamlit as st

    from ui.sidebar_memory import forget_bias_moved, forget_init_control

    st.session_state.setdefault("forget_bias", 3.0)
    st.session_state.setdefault("chrono_t_max", 0.0)
    st.session_state.setdefault("seq_len", 200)
    forget_init_control()
    st.slider("forget_bias", -10.0, 10.0, step=0.5, key="forget_bias", on_change=forget_bias_moved)


def test_a_good_csv_goes_to_session_state_and_a_bad_one_shows_an_error() -> None:
    at = AppTest.from_function(csv_script, default_timeout=APPTEST_TIMEOUT).run()
    assert "input_values" not in at.session_state
    at.file_uploader(key="input_csv_file").upload("x.csv", b"a,b\n1,2\n3,4\n5,6\n", "text/csv")
    at.run()
    assert not at.exception
    assert at.session_state["input_values"] == ((1.0, 2.0), (3.0, 4.0), (5.0, 6.0))
    at.file_uploader(key="input_csv_file").set_value(("y.csv", b"1,2\n3\n", "text/csv")).run()
    assert not at.exception
    assert at.session_state["input_values"] is None
    assert any("y.csv: row 2 has 1 values" in error.value for error in at.error)


def test_the_csv_rows_outlive_a_page_without_the_uploader_until_the_file_is_removed() -> None:
    rows = ((1.0, 2.0), (3.0, 4.0), (5.0, 6.0))
    at = AppTest.from_function(csv_script, default_timeout=APPTEST_TIMEOUT).run()
    at.file_uploader(key="input_csv_file").upload("x.csv", b"a,b\n1,2\n3,4\n5,6\n", "text/csv")
    at.run()
    at.session_state["elsewhere"] = True
    at.run()
    at.session_state["elsewhere"] = False
    at.run()  # the uploader is drawn again, empty: Streamlit dropped its value
    assert not at.exception
    assert at.session_state["input_values"] == rows
    assert any("x.csv: 3 steps × 2 features" in caption.value for caption in at.caption)
    at.file_uploader(key="input_csv_file").set_value(("x.csv", b"1,2\n", "text/csv")).run()
    assert at.session_state["input_values"] == ((1.0, 2.0),)
    at.file_uploader(key="input_csv_file").set_value(None).run()
    assert at.session_state["input_values"] is None
    assert not at.caption


def test_forget_init_presets_set_the_bias_or_chrono_and_follow_the_slider() -> None:
    at = AppTest.from_function(forget_init_script, default_timeout=APPTEST_TIMEOUT).run()
    control = at.segmented_control(key="forget_init")
    assert control.value == "+3"  # matches the starting bias
    control.set_value("+1").run()
    assert at.session_state["forget_bias"] == 1.0 and at.session_state["chrono_t_max"] == 0.0
    at.segmented_control(key="forget_init").set_value("chrono").run()
    assert at.session_state["chrono_t_max"] == 200.0  # T_max = seq_len
    assert any("Chrono init on" in caption.value for caption in at.caption)
    at.slider(key="forget_bias").set_value(2.5).run()  # a hand-set bias turns chrono off
    assert at.session_state["chrono_t_max"] == 0.0
    assert at.segmented_control(key="forget_init").value is None
    at.segmented_control(key="forget_init").set_value("0").run()
    assert at.session_state["forget_bias"] == 0.0


def test_a_csv_upload_sets_the_sidebar_sizes() -> None:
    from conftest import APP, chart_specs, decode

    at = AppTest.from_file(APP, default_timeout=APPTEST_TIMEOUT)
    at.session_state["signal"] = "csv"
    at.run()
    assert not at.exception
    assert any("upload the CSV" in info.value for info in at.info)
    at.file_uploader(key="input_csv_file").upload("x.csv", b"a,b\n1,2\n3,4\n5,6\n", "text/csv")
    at.run()
    assert not at.exception
    assert at.session_state["input_dim"] == 2 and at.session_state["seq_len"] == 3
    assert len(decode(chart_specs(at)[0]["data"][0]["y"])) == 3
    # (AppTest reruns only the page after an interaction, so app.py's sync of the link is
    # checked in a browser: tests/e2e/test_issue12_browser.py.)
