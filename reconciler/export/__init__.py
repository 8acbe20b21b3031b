"""Export: live objects -> manifest files (`exporter.py`), with what the schemas say (`schema.py`) and
stable YAML text (`dump.py`)."""
