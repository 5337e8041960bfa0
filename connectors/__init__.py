"""Channels and the FastAPI app that mounts them: web chat, REST chat API, editor pages."""
