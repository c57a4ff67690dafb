"""Reusable widgets of the terminal UI: navigation, the bar chart, the task status line."""
