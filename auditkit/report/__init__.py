"""Audit reports: rendering (HTML, PDF/A-3b) and their signing and verification."""
