"""Tables of one run of a loaded or trained model, for the pages that show it as text: the
steps around a step (`steps_read`), the cell finder's units of a layer (`units_holding`) and
every tensor's shape (`shapes_table`)."""

from __future__ import annotations

import math

from lstm_core.learned.labels import label_title
from lstm_core.model.source import CellRanking, SourceRun


def steps_read(run: SourceRun, batch: int, step: int, around: int = 3) -> list[dict[str, str]]:
    """A task model's input from step - around to step + around of sequence `batch`, one row a
    step: "t", "reads" (the task's words), "answers" (the model's answer after that step beside
    what it should be, for a task that answers every step) and each label's value (a whole
    number, else to two decimals with its sign; "" where the label is undefined). Empty when the
    run has no step words (a file or the code model).
    """
    if not run.step_words:
        return []
    if not (0 <= batch < len(run.step_words) and 0 <= step < len(run.step_words[batch])):
        raise ValueError(f"batch item {batch} / step {step} is not in this run")
    words = run.step_words[batch]
    rows = []
    for t in range(max(0, step - around), min(len(words), step + around + 1)):
        row = {"t": str(t), "reads": words[t]}
        if run.step_answers:
            row["answers"] = run.step_answers[batch][t]
        for name, values in run.labels.items():
            value = float(values[batch, t])
            row[label_title(name)] = (
                ""
                if math.isnan(value)
                else str(int(value))
                if value.is_integer()
                else f"{value:+.2f}"  # as the task's words write a value
            )
        rows.append(row)
    return rows


def units_holding(ranking: CellRanking, hidden_size: int, layer: int) -> dict[int, list[str]]:
    """The cell finder's units in layer `layer` (forward): {its unit k < hidden_size: the
    labels whose best C unit it is}, from the ranking's layer-by-layer numbering."""
    held: dict[int, list[str]] = {}
    for name, match in ranking.cells.items():
        if match.unit // hidden_size == layer:
            held.setdefault(match.unit % hidden_size, []).append(label_title(name))
    return held


def shapes_table(run: SourceRun) -> list[dict[str, str]]:
    """Every tensor of this model's run and its shape, read from the tensors themselves.

    Rows {"tensor", "shape", "what"}: x, output, h_n, c_n, h_t and C_t of one step, and each
    nn.LSTM parameter (weight_hr_l{k} with a projection, `_reverse` when bidirectional).
    """
    t = run.trace
    layer_step = t.h[0, 0, :, 0]  # (B, P)
    cell_step = t.c[0, 0, :, 0]  # (B, H)
    rows = [
        ("x", t.x, "the input nn.LSTM reads, batch first (B, T, I)"),
        (
            "output",
            t.output,
            "every step's h of the last layer"
            + (", both directions side by side" if t.num_directions == 2 else ""),
        ),
        ("h_n", t.h_n, "the last h of every layer and direction (D·L, B, P or H)"),
        ("c_n", t.c_n, "the last C of every layer and direction (D·L, B, H)"),
        ("h_t", layer_step, "one step's hidden state: proj_size wide when projected"),
        ("C_t", cell_step, "one step's cell state: always hidden_size wide"),
    ]
    table = [
        {"tensor": name, "shape": str(tuple(tensor.shape)), "what": what}
        for name, tensor, what in rows
    ]
    for name, shape in run.spec.shapes().items():
        kind = name.split("_l")[0]
        what = {
            "weight_ih": "input → the four gates (4H, features read)",
            "weight_hh": "previous h → the four gates (4H, P or H)",
            "bias_ih": "bias of the input part (4H)",
            "bias_hh": "bias of the recurrent part (4H)",
            "weight_hr": "the projection h = W_hr (o ⊙ tanh C) (P, H)",
        }[kind]
        table.append({"tensor": name, "shape": str(shape), "what": what})
    return table
