"""Waveform augmentation for speechmill corpora.

``effects``: speed, tempo, pitch (WSOLA in ``stretch``), noise at an SNR (white, pink, brown,
babble, recordings), reverb, gain, telephone band; ``recipe``: the recipe language that says
which copies to make; ``apply``: a recipe's effect chain on one utterance with seeded
randomness; ``tf_ops``: the same ideas as stateless TensorFlow ops for on-the-fly use in tf.data.
The Beam job that writes augmented corpora is ``pipelines/augment_corpus.py``.
"""
