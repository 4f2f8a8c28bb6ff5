"""Changes to the agreement: what changed in words, its impact on real leads, and the reviews
both team leads approve."""
