"""Run the federation on Flower's Deployment Engine (the optional extra ``vfl[flower]``).

The ServerApp is the active party plus the coordinator; each ClientApp is a
passive party. Embeddings and gradients are sealed end to end
(:mod:`vfl.flower.crypto`), so the SuperLink relays only ciphertext.
``vfl simulate --transport flower`` runs it all on loopback
(:mod:`vfl.flower.local`). Importing this package does not import Flower;
its submodules do.
"""

__all__: list[str] = []
