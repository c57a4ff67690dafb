# Shortcuts for developers who have make; the README's commands need only bash.
.PHONY: demo test lint bench
demo:
	bash scripts/bootstrap.sh demo
test:
	bash scripts/bootstrap.sh test
lint:
	.venv/bin/ruff check auditkit tests bench sample_data
	.venv/bin/ruff format --check auditkit tests bench sample_data
	.venv/bin/mypy
	.venv/bin/lint-imports
bench:
	.venv/bin/python bench/bench_metrics.py
