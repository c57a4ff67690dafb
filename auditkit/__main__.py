from auditkit.cli.main import run

run()
