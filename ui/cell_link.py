"""A trained model's label and unit in the link: the text view's and the Explorer's.

Both pages write the label and the unit in view (`write_cell_link`) and read them back from a
link (`linked_cell`): `?cell_label=bracket_depth&cell_unit=42`, units numbered layer by layer
as the cell finder numbers them.
"""

from __future__ import annotations

from collections.abc import Sequence

from lstm_core.io.urlstate import choice_from_link, index_from_link
from ui.share import (
    change_link,
    link_warning,
    page_link_changes,
    publish_link,
    write_page_link,
)

LABEL_PARAM = "cell_label"
UNIT_PARAM = "cell_unit"


def linked_cell(page: str, labels: Sequence[str], units: int) -> tuple[str | None, int | None]:
    """The label (one of `labels`) and unit (< `units`) a link asks `page` to show, each None
    when the link does not ask (ui.share.page_link_changes) or asks for one there is not, which
    gets a warning. A unit goes with its label: with a label there is not, it is not used."""
    linked = page_link_changes(page, (LABEL_PARAM, UNIT_PARAM))
    label = unit = None
    if LABEL_PARAM in linked:
        try:
            label = choice_from_link(LABEL_PARAM, linked[LABEL_PARAM], labels)
        except ValueError as reason:
            dropped = f", and {UNIT_PARAM} with it" if UNIT_PARAM in linked else ""
            link_warning(f"{reason}{dropped}")
            return None, None
    if UNIT_PARAM in linked:
        try:
            unit = index_from_link(UNIT_PARAM, linked[UNIT_PARAM], units)
        except ValueError as reason:
            link_warning(str(reason))
    return label, unit


def write_cell_link(page: str, label: str, unit: int) -> None:
    """Put the label and unit in view into the link."""
    write_page_link(page, {LABEL_PARAM: label, UNIT_PARAM: str(unit)})


def forget_cell_link() -> None:
    """Take the label and unit out of the link: the page shows a model without labels."""
    change_link({LABEL_PARAM: None, UNIT_PARAM: None})
    publish_link()
