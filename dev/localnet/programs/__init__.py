"""Programs the local chain models in Python: the MissOut pool program (`pool`) and Switchboard On-Demand
(`switchboard`). Each exposes a `ModelledProgram` (see `localnet.model_api`). Kept import-free so that helpers
such as `localnet.programs.system` can be imported without loading every program."""
