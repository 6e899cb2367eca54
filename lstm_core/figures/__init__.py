"""Pure figure builders: results in, a plotly go.Figure out, inputs validated first.

Every builder returns the same kind of figure: a go.Figure that sets its data, titles and
colours but leaves the rest of its look to the template it is drawn with: the export's, on
white (`lstm_core.io.image`), or the page theme's on screen (ui/figure.py `show_figure`, via
`screen.screen_figure`, cached). A notebook shows them as they are. What a figure draws of a
long run is bounded by `downsample`.
"""
