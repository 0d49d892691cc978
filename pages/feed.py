"""Live feed of the latest ingested events."""
import dash
from dash import html

dash.register_page(__name__, path="/", title="Live feed")

layout = html.Div([html.H3("Live feed")])
