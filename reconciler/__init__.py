"""reconciler: Telnyx AI Assistants managed as code."""

__version__ = "0.1.0"
