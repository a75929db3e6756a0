"""The handshake benchmark of issue 10 and its companions (``make bench``, ``make bench-all``):
run.py (handshakes/s, Python and Node side by side), connections.py (``reload``,
``auto_save``, memory per connection), profile.py (py-spy on the loaded server)."""
