"""speechmill's front door: the ``speechmill`` console command and what it shows a user
(progress, a quiet console, one-line failures, the corpus report, record inspection)."""
