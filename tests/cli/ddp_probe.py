"""`mmreason sft` with a record of what each rank did, for the multi-process test in test_sft.py: run it under
`accelerate launch` with the `mmreason sft` arguments; each rank writes `$DDP_PROBE_DIR/rank<R>.json` with the
DDP wrapper's `find_unused_parameters` and the drop reports it wrote."""

import json
import os
import sys

from mmreason.cli import sft
from mmreason.train import RationaleSFTTrainer, hygiene

RECORD = {"rank": int(os.environ.get("RANK", "0")), "report_writes": []}
_write_report, _train = hygiene.write_drop_report, RationaleSFTTrainer.train


def write_drop_report(path, records):
    RECORD["report_writes"].append({"path": str(path), "records": len(records)})
    return _write_report(path, records)


def train(self, *args, **kwargs):
    result = _train(self, *args, **kwargs)
    RECORD["wrapper"] = type(self.model_wrapped).__name__
    RECORD["find_unused_parameters"] = getattr(self.model_wrapped, "find_unused_parameters", None)
    RECORD["dropped_samples"] = dict(self.dropped_samples)
    return result


if __name__ == "__main__":
    hygiene.write_drop_report = write_drop_report  # looked up in the module's globals by drop_untrainable
    RationaleSFTTrainer.train = train
    sft.main(sys.argv[1:])
    with open(os.path.join(os.environ["DDP_PROBE_DIR"], f"rank{RECORD['rank']}.json"), "w") as handle:
        json.dump(RECORD, handle)
