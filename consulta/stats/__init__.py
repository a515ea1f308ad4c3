"""Figures across domains: recounting the counters that the domains maintain (`flask recount`)."""
