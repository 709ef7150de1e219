"""What only the front door does: exit statuses and one-line errors, the help formatter and the
flags several commands share, progress on a terminal, and a quiet console."""
