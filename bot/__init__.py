"""The dialogue side: Rasa domain, custom actions (served over the action-server webhook), turn orchestration."""
