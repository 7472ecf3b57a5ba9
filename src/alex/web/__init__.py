"""Alex's web pages: a door like ``alex.http``, served by the same FastAPI app (docs/ui.md)."""
