"""Renderers: every deployment target is a function of the typed config model."""
