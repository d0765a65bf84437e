from respkit.conformance.cli import run

if __name__ == "__main__":  # not when a worker process started by spawn imports the main module again
    run()
