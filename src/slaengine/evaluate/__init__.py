"""Lead records against the agreement: lead files and mappings, coercion, the compiled Python
evaluator, decisions and their explanations, business calendars and service-level clocks,
recycling, and the agreement's own example tests."""
