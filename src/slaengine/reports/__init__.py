"""What the teams read from their leads: the weekly check of breaches, violations, recycles and
credits, and the monthly feedback report with its charts."""
