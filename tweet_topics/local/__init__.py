"""The embedded local AWS stack (a moto server on 127.0.0.1) and its snapshot/restore."""
