from respkit.conformance.cli import run

run()
