"""Planning: desired + live state -> a Plan (pure, no I/O). `plan.py` holds the types; `planner.py` decides,
with `forms.py` (manifest form <-> API form, field changes, update bodies) and `versions.py` (versions and
canary rules); `diff.py` compares; `whole.py` fills in the API's defaults; `pruning.py` applies the deletion
rules; `identity.py` matches by name; `targets.py` narrows a plan to `--target`; `ordering.py` derives the
apply graph."""
