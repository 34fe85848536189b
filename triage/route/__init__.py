"""Routing and the Code's clocks: working-day deadlines, queues and flags."""
