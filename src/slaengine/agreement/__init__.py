"""The agreement itself: strict loading with places, the models, the schema, validation, the
digest, and the one place that words conditions in plain language.

Every other wing reads the agreement through this one; this one imports none of them.
"""
