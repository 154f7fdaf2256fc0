"""`python -m mmreason.eval.lmms_tasks` prints the task folder (for `lmms-eval --include_path`)."""

from . import TASK_DIR

print(TASK_DIR)
