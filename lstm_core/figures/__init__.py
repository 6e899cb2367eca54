"""Figure builders: pure functions from runs and metrics to plotly figures (no Streamlit)."""
