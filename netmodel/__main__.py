from netmodel.cli.main import run

run()
