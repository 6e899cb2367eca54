"""Pure figure builders for one cell update: the flow diagram of a unit (Step through, Gate
playground) and the playground's bars.

Each builder validates its inputs first and returns a plotly go.Figure; no Streamlit here.
"""

from __future__ import annotations

import plotly.graph_objects as go

from lstm_core.figures.colors import NEUTRAL_COLOR, STATE_COLORS, unit_color
from lstm_core.model.cell import CellUpdate

# The diagram's boxes and circles hide the lines behind them with a fill of the page's colour.
DIAGRAM_FILL: dict[str, str] = {"light": "#FFFFFF", "dark": "#262730"}


def cell_flow_figure(
    update: CellUpdate, unit: int, label: str = "", theme: str = "light"
) -> go.Figure:
    """The LSTM cell as a diagram with one unit's numbers at one step.

    On top the cell line C_{t-1} → ⊙ f_t → ⊕ i_t ⊙ g_t → C_t; from it tanh(C_t) ⊙ o_t goes down
    to h_t; the gates are computed from [h_{t-1}, x_t] at the bottom. `unit` is one of
    `update.units`; a run's step is labelled with its step and unit unless `label` is given.
    `theme` ("light" or "dark") fills the boxes to match the page; the text takes the page's
    colour.
    """
    if theme not in DIAGRAM_FILL:
        raise ValueError(f"theme must be one of {', '.join(DIAGRAM_FILL)}, got {theme!r}")
    if not isinstance(update, CellUpdate):
        raise TypeError(f"update must be a CellUpdate, got {type(update).__name__}")
    fill = DIAGRAM_FILL[theme]
    v = update.values(unit)
    if update.step is not None and not label:
        label = f"step t = {update.step}, unit {unit}"
    figure = go.Figure()
    line_y = 5.2
    box_y = 2.0
    box_x = {"f": 2.8, "i": 4.4, "g": 6.0, "o": 7.6}
    gate_color = {"f": "#EF553B", "i": "#00CC96", "g": "#AB63FA", "o": "#FFA15A"}
    cell_color = STATE_COLORS["c"]
    forget_x, plus_x, out_x = 2.8, 5.2, 8.9
    write_y = 3.6

    def arrow(x0: float, y0: float, x1: float, y1: float, color: str = NEUTRAL_COLOR) -> None:
        figure.add_annotation(
            x=x1,
            y=y1,
            ax=x0,
            ay=y0,
            xref="x",
            yref="y",
            axref="x",
            ayref="y",
            text="",
            showarrow=True,
            arrowhead=2,
            arrowsize=1.2,
            arrowwidth=2,
            arrowcolor=color,
        )

    def circle(x: float, y: float, symbol: str, color: str) -> None:
        figure.add_shape(
            type="circle",
            x0=x - 0.28,
            y0=y - 0.28,
            x1=x + 0.28,
            y1=y + 0.28,
            line={"color": color, "width": 2},
            fillcolor=fill,
            layer="above",
        )
        figure.add_annotation(
            x=x, y=y, text=symbol, showarrow=False, font={"size": 20, "color": color}
        )

    def box(x: float, y: float, text: str, color: str, width: float = 1.35) -> None:
        figure.add_shape(
            type="rect",
            x0=x - width / 2,
            y0=y - 0.38,
            x1=x + width / 2,
            y1=y + 0.38,
            line={"color": color, "width": 2},
            fillcolor=fill,
            layer="above",
        )
        figure.add_annotation(x=x, y=y, text=text, showarrow=False, font={"size": 13})

    def text(x: float, y: float, content: str, anchor: str = "center", size: int = 13) -> None:
        figure.add_annotation(
            x=x, y=y, text=content, showarrow=False, xanchor=anchor, font={"size": size}
        )

    # The cell line (long-term memory) along the top.
    figure.add_shape(
        type="line",
        x0=0.6,
        y0=line_y,
        x1=9.9,
        y1=line_y,
        line={"color": cell_color, "width": 5},
    )
    arrow(9.3, line_y, 9.95, line_y, cell_color)
    text(0.6, line_y + 0.5, f"C<sub>t-1</sub> = {v['c_prev']:.4f}", "left", 14)
    text(9.95, line_y + 0.5, f"<b>C<sub>t</sub> = {v['c']:.4f}</b>", "right", 14)
    text(
        (forget_x + plus_x) / 2,
        line_y + 0.5,
        f"f ⊙ C<sub>t-1</sub> = {v['kept']:.4f}",
        "center",
    )
    circle(forget_x, line_y, "⊙", gate_color["f"])
    circle(plus_x, line_y, "+", gate_color["i"])
    # Gates from [h_{t-1}, x_t].
    figure.add_shape(
        type="line",
        x0=1.6,
        y0=0.6,
        x1=box_x["o"],
        y1=0.6,
        line={"color": NEUTRAL_COLOR, "width": 3},
    )
    text(1.5, 0.6, "[h<sub>t-1</sub>, x<sub>t</sub>]", "right")
    for name, fn in (("f", "σ"), ("i", "σ"), ("g", "tanh"), ("o", "σ")):
        arrow(box_x[name], 0.6, box_x[name], box_y - 0.4)
        box(
            box_x[name],
            box_y,
            f"{name}<sub>t</sub> = {fn}(·)<br><b>{v[name]:.4f}</b>",
            gate_color[name],
        )
    arrow(forget_x, box_y + 0.4, forget_x, line_y - 0.3, gate_color["f"])
    circle(plus_x, write_y, "⊙", gate_color["i"])
    arrow(box_x["i"], box_y + 0.4, plus_x - 0.2, write_y - 0.22, gate_color["i"])
    arrow(box_x["g"], box_y + 0.4, plus_x + 0.2, write_y - 0.22, gate_color["g"])
    arrow(plus_x, write_y + 0.3, plus_x, line_y - 0.3, gate_color["i"])
    text(plus_x + 0.4, (write_y + line_y) / 2, f"i ⊙ g = {v['written']:.4f}", "left")
    # Output path: tanh(C_t) ⊙ o_t down to h_t.
    arrow(out_x, line_y, out_x, write_y + 0.4, cell_color)
    box(out_x, write_y, f"tanh(C<sub>t</sub>)<br><b>{v['tanh_c']:.4f}</b>", cell_color, 1.5)
    circle(out_x, box_y, "⊙", gate_color["o"])
    arrow(out_x, write_y - 0.4, out_x, box_y + 0.3, cell_color)
    arrow(box_x["o"] + 0.7, box_y, out_x - 0.3, box_y, gate_color["o"])
    arrow(out_x, box_y - 0.3, out_x, 0.45, STATE_COLORS["h"])
    text(out_x + 0.15, 0.35, f"<b>h<sub>t</sub> = {v['h']:.4f}</b>", "left", 14)
    equations = (
        f"C<sub>t</sub> = {v['f']:.4f} × {v['c_prev']:.4f} + {v['i']:.4f} × {v['g']:.4f} "
        f"= {v['c']:.4f}   ·   h<sub>t</sub> = {v['o']:.4f} × tanh({v['c']:.4f}) = {v['h']:.4f}"
    )
    figure.update_xaxes(visible=False, range=[-0.2, 10.8], fixedrange=True)
    figure.update_yaxes(visible=False, range=[-0.1, 6.2], fixedrange=True)
    figure.update_layout(
        title={"text": f"Inside the cell{': ' + label if label else ''}<br><sup>{equations}</sup>"},
        height=440,
        margin={"l": 10, "r": 10, "t": 70, "b": 10},
        showlegend=False,
    )
    return figure


def playground_figure(update: CellUpdate) -> go.Figure:
    """Every quantity of a playground update as grouped bars, one colour per unit."""
    if not isinstance(update, CellUpdate):
        raise TypeError(f"update must be a CellUpdate, got {type(update).__name__}")
    quantities = (
        ("c_prev", "C<sub>t-1</sub>"),
        ("kept", "f ⊙ C<sub>t-1</sub><br>(kept)"),
        ("written", "i ⊙ g<br>(written)"),
        ("c", "C<sub>t</sub>"),
        ("tanh_c", "tanh(C<sub>t</sub>)"),
        ("h", "h<sub>t</sub><br>(exposed)"),
    )
    labels = [label for _, label in quantities]
    figure = go.Figure()
    for index, unit in enumerate(update.units):
        values = [getattr(update, name)[index] for name, _ in quantities]
        figure.add_trace(
            go.Bar(
                x=labels,
                y=values,
                name=f"unit {unit}",
                marker_color=unit_color(unit),
                text=[f"{value:.3f}" for value in values],
                textposition="outside",
                hovertemplate=f"unit {unit}<br>%{{x}} = %{{y:.4f}}<extra></extra>",
            )
        )
    limit = max(1.0, *(abs(v) for name, _ in quantities for v in getattr(update, name)))
    figure.update_layout(
        title={"text": "One cell update: what is kept, written, stored and exposed"},
        barmode="group",
        yaxis={"range": [-limit * 1.2, limit * 1.2], "zeroline": True, "title": "value"},
        height=380,
        margin={"l": 60, "r": 20, "t": 60, "b": 40},
        legend={"title": {"text": "unit"}},
    )
    return figure
