"""Planning: desired + live state -> a Plan (pure, no I/O). `plan.py` holds the types; `planner.py` decides;
`diff.py` compares; `pruning.py` applies the deletion rules; `identity.py` matches by name; `targets.py`
narrows a plan to `--target`; `ordering.py` derives the apply graph."""
