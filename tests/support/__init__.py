"""What several test modules share: made-up speech and media, job helpers, the loopback site
and tiny model sizes. conftest.py holds the fixtures built from them."""
