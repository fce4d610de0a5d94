"""REST API (FastAPI) over the engine."""
