"""Apache Beam jobs that wire speechmill's pure functions into pipelines."""
