from auditkit.cli.main import run

# Guarded: the report's chart worker starts Python processes that import the main module.
if __name__ == "__main__":
    run()
