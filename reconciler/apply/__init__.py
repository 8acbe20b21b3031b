"""Apply: run a Plan against the API in dependency order (`applier.py`), and saved plans (`savedplan.py`)."""
