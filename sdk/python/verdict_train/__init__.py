"""verdict_train: the feature extraction and trainers behind Verdict's ML plugins.

The feature extraction of the textclf plugin is specified in docs/textclf-features.md and
implemented twice, here and in plugins/textclf (C); the parity tests hold them together.
"""
