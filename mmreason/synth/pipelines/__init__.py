"""The synthesis pipelines, one module each: a Python function over rows and a [`Stage`] for the job runner.

* `mammoth_rewrite`: MAmmoTH-VL's categorize → rewrite → model-as-judge filter;
* `mmpr_pairs`: MMPR correctness pairs (sampled CoT answers checked against the ground truth);
* `dropout_ntp`: MMPR's Dropout Next-Token Prediction pairs (a response's second half continued without the image);
* `puma_pairs`: Math-PUMA text-rich / vision-rich pairs (the problem's text rendered into its image).
"""
