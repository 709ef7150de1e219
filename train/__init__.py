"""Training-side code: the tf.data input over speechmill corpora."""
