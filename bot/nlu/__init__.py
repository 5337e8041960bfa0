"""Custom Rasa NLU components (loaded by Rasa from config.yml, inside .venv-rasa)."""
