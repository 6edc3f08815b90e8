from mediarecon.cli import app

app()
