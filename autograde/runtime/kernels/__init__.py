"""The kernels that run a submission: limits, the allow-list sandbox, the warm parent, the audit hook."""
