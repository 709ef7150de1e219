"""Waveform augmentation for speechmill corpora (speed, pitch, tempo, noise, reverb).

The effects land with the augmentation issue; this package is reserved so the distribution
layout (corpus, augment, pipelines, train) is fixed from the start.
"""
